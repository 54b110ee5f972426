import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { generateEncryptionKey, sealedIn, SecretBox } from '@tocsin/secrets';
import { createTestDataSource, type TestDataSource } from '@tocsin/testing';
import { describeUnreadable, endpointHeaders, sealStoredSecrets, signingSecrets, type UnreadableSecret } from '../src';

describe('re-sealing every sealed column on real Postgres', () => {
  let db: TestDataSource;
  let ds: DataSource;
  const oldKey = `old:${generateEncryptionKey()}`;
  const newKey = `new:${generateEncryptionKey()}`;
  const droppedKey = `gone:${generateEncryptionKey()}`;
  const before = SecretBox.fromEnv(oldKey);
  const lost = SecretBox.fromEnv(droppedKey);
  // The operator rotated to `new`, kept `old` for the re-seal, and had already dropped `gone`.
  const rotated = SecretBox.fromEnv(`${newKey},${oldKey}`);

  beforeAll(async () => {
    db = await createTestDataSource(2);
    ds = db.dataSource;
  });

  afterAll(async () => {
    await db?.drop();
  });

  async function tenant(): Promise<string> {
    const id = randomUUID();
    await ds.query('INSERT INTO tenants (id, name) VALUES ($1, $2)', [id, `t-${id.slice(0, 8)}`]);
    return id;
  }

  async function endpoint(
    tenantId: string,
    seal: (id: string) => { secret: string; previous: unknown[]; headers?: Record<string, string>; sealedHeaders?: string | null },
  ): Promise<string> {
    const id = randomUUID();
    const values = seal(id);
    await ds.query(
      `INSERT INTO endpoints (id, tenant_id, name, url, events, severities, include_recovery, method, headers, secret, previous_secrets,
                              sealed_headers, retry_schedule_seconds, timeout_ms, status)
       VALUES ($1, $2, 'e', 'https://example.com/hook', '["*"]', '["P1"]', true, 'POST', $3::jsonb, $4, $5::jsonb, $6, '[0]', 1000, 'active')`,
      [id, tenantId, JSON.stringify(values.headers ?? {}), values.secret, JSON.stringify(values.previous), values.sealedHeaders ?? null],
    );
    return id;
  }

  async function monitor(tenantId: string, sealedHeaders: (id: string) => string): Promise<string> {
    const id = randomUUID();
    await ds.query(
      `INSERT INTO monitors (id, tenant_id, slug, name, url, kind, interval_seconds, timeout_ms, confirm_after, recover_after, sealed_headers, header_names)
       VALUES ($1, $2, $3, 'm', 'https://example.com/mcp', 'mcp', 60, 1000, 2, 2, $4, '["authorization"]')`,
      [id, tenantId, `m-${id.slice(0, 8)}`, sealedHeaders(id)],
    );
    return id;
  }

  async function receiver(tenantId: string, secret: (id: string) => string): Promise<string> {
    const id = randomUUID();
    await ds.query(
      `INSERT INTO receivers (id, tenant_id, name, status_field, service_field, secret, token_hash, token_prefix)
       VALUES ($1, $2, 'r', 'status', 'service', $3, $4, 'abcdefgh')`,
      [id, tenantId, secret(id), `hash-${id}`],
    );
    return id;
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- raw rows of several tables, read field by field below
  type Row = Record<string, any>;
  const row = async (table: string, id: string) => ((await ds.query(`SELECT * FROM ${table} WHERE id = $1`, [id])) as Row[])[0]!;

  it('re-seals the good rows of every column, and skips and reports an unreadable one beside them without throwing', async () => {
    const good = await tenant();
    const poisoned = await tenant();
    const expiresAt = new Date(Date.now() + 3_600_000).toISOString();

    const goodEndpoint = await endpoint(good, (id) => ({
      secret: before.seal('whsec_current', sealedIn.endpointSecret(id)),
      previous: [{ secret: before.seal('whsec_previous', sealedIn.endpointSecret(id)), expires_at: expiresAt }],
      headers: { 'x-plain': 'from-before-sealing' },
      sealedHeaders: before.sealJson({ authorization: 'Bearer good' }, sealedIn.endpointHeaders(id)),
    }));
    const plainEndpoint = await endpoint(good, () => ({ secret: 'whsec_plain', previous: [] }));
    const goodMonitor = await monitor(good, (id) => before.sealJson({ authorization: 'Bearer m' }, sealedIn.monitorHeaders(id)));
    const goodReceiver = await receiver(good, (id) => before.seal('rsec', sealedIn.receiverSecret(id)));

    // The poisoned tenant's rows: one sealed under a key already dropped in each column.
    const lostSecret = await endpoint(poisoned, (id) => ({ secret: lost.seal('x', sealedIn.endpointSecret(id)), previous: [] }));
    const lostPrevious = await endpoint(poisoned, (id) => ({
      secret: before.seal('fine', sealedIn.endpointSecret(id)),
      previous: [{ secret: lost.seal('x', sealedIn.endpointSecret(id)), expires_at: expiresAt }],
    }));
    const lostMonitor = await monitor(poisoned, (id) => lost.sealJson({ a: 'b' }, sealedIn.monitorHeaders(id)));
    const lostReceiver = await receiver(poisoned, (id) => lost.seal('x', sealedIn.receiverSecret(id)));

    const logged: UnreadableSecret[] = [];
    const report = await sealStoredSecrets(ds.manager, rotated, (r) => logged.push(r));

    expect(report.unreadable.map((u) => [u.table, u.column, u.id]).sort()).toEqual(
      [
        ['endpoints', 'secret', lostSecret],
        ['endpoints', 'previous_secrets', lostPrevious],
        ['monitors', 'sealed_headers', lostMonitor],
        ['receivers', 'secret', lostReceiver],
      ].sort(),
    );
    expect(logged).toEqual(report.unreadable);
    expect(report.unreadable.every((u) => u.error_class === 'secret_unreadable' && u.tenant_id === poisoned)).toBe(true);
    expect(describeUnreadable(report.unreadable[0]!)).toMatch(/secret_unreadable/);
    expect(describeUnreadable(report.unreadable[0]!)).not.toMatch(/enc:v/);

    // Every good value now opens with the new key alone, in its own row.
    const onlyNew = SecretBox.fromEnv(newKey);
    const e = await row('endpoints', goodEndpoint);
    expect(e.secret).toMatch(/^enc:v2:new:/);
    expect(signingSecrets(onlyNew, e as never, new Date())).toEqual(['whsec_current', 'whsec_previous']);
    expect(e.headers).toEqual({});
    expect(e.header_names).toEqual(['authorization', 'x-plain']);
    expect(endpointHeaders(onlyNew, e as never)).toEqual({ authorization: 'Bearer good', 'x-plain': 'from-before-sealing' });
    const plain = await row('endpoints', plainEndpoint);
    expect(onlyNew.open(plain.secret, sealedIn.endpointSecret(plainEndpoint))).toBe('whsec_plain');
    const m = await row('monitors', goodMonitor);
    expect(onlyNew.openJson(m.sealed_headers, sealedIn.monitorHeaders(goodMonitor))).toEqual({ authorization: 'Bearer m' });
    const r = await row('receivers', goodReceiver);
    expect(onlyNew.open(r.secret, sealedIn.receiverSecret(goodReceiver))).toBe('rsec');
    // The readable half of a partly unreadable endpoint still moved on; the unreadable column stayed as it was.
    const partly = await row('endpoints', lostPrevious);
    expect(partly.secret).toMatch(/^enc:v2:new:/);
    expect(partly.previous_secrets[0].secret).toMatch(/^enc:v2:gone:/);

    // A second run has nothing left to do but report the same unreadable rows again.
    const again = await sealStoredSecrets(ds.manager, rotated);
    expect(again.resealed).toBe(0);
    expect(again.unreadable).toHaveLength(4);
  });

  it('re-seals enc:v1 values to v2 bound to their row even when the key has not changed', async () => {
    const t = await tenant();
    const key = SecretBox.fromEnv(newKey);
    const { createCipheriv, randomBytes } = await import('node:crypto');
    const material = Buffer.from(newKey.slice('new:'.length), 'base64');
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', material, iv);
    const ct = Buffer.concat([cipher.update('whsec_v1', 'utf8'), cipher.final()]);
    const v1 = `enc:v1:new:${iv.toString('base64url')}:${cipher.getAuthTag().toString('base64url')}:${ct.toString('base64url')}`;
    const id = await endpoint(t, () => ({ secret: v1, previous: [] }));
    const report = await sealStoredSecrets(ds.manager, key);
    expect(report.unreadable.filter((u) => u.tenant_id === t)).toEqual([]);
    const e = await row('endpoints', id);
    expect(e.secret).toMatch(/^enc:v2:new:/);
    expect(key.open(e.secret, sealedIn.endpointSecret(id))).toBe('whsec_v1');
  });
});
