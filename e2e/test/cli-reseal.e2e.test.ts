import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { ApiClient, runTocsin, startStack, type Stack } from '../src';

const OLD = `old:${randomBytes(32).toString('base64')}`;
const NEW = `new:${randomBytes(32).toString('base64')}`;

/**
 * Key rotation end to end: the API seals with the old key; `tocsin admin reseal` with the
 * new key first moves every sealed column to it, so the old key can be dropped; a row no
 * listed key opens is named (never shown) and the command exits 1, the other rows re-sealed.
 */
describe('tocsin admin reseal', () => {
  let stack: Stack;
  let db: Client;
  let api: ApiClient;
  const sealedColumns = async (): Promise<string[]> => {
    const { rows } = await db.query<{ value: string }>(`
      SELECT secret AS value FROM endpoints
      UNION ALL SELECT p->>'secret' FROM endpoints, jsonb_array_elements(previous_secrets) p
      UNION ALL SELECT sealed_headers FROM endpoints WHERE sealed_headers IS NOT NULL
      UNION ALL SELECT sealed_headers FROM monitors WHERE sealed_headers IS NOT NULL
      UNION ALL SELECT secret FROM receivers WHERE secret IS NOT NULL`);
    return rows.map((r) => r.value);
  };

  beforeAll(async () => {
    stack = await startStack(['api'], { TOCSIN_ENCRYPTION_KEY: OLD });
    ({ client: api } = await ApiClient.tenant(stack.apiUrl, 'rotating'));
    db = new Client({ connectionString: stack.database.url });
    await db.connect();
  });

  afterAll(async () => {
    await db?.end();
    await stack?.close();
  });

  it('moves every sealed column to the new key; an unopenable row is named, left as it is, and exits 1', async () => {
    const monitor = await api.post<{ id: string }>('/v1/monitors', {
      slug: 'sealed',
      name: 'Sealed',
      url: 'https://sealed.example.com/mcp',
      headers: { authorization: 'Bearer monitor-token' },
    });
    expect(monitor.status).toBe(201);
    const endpoint = await api.post<{ id: string; secret: string }>('/v1/endpoints', {
      name: 'pager',
      url: 'https://pager.example.com/hook',
      headers: { 'x-api-key': 'endpoint-token' },
    });
    expect(endpoint.status).toBe(201);
    expect((await api.post(`/v1/endpoints/${endpoint.body.id}/rotate-secret`, {})).status).toBe(200);
    const receiver = await api.post<{ id: string }>('/v1/receivers', { name: 'status', monitor_id: monitor.body.id, status_field: 'status', secret: 'shared-secret-1' });
    expect(receiver.status).toBe(201);
    const second = await api.post<{ id: string }>('/v1/receivers', { name: 'status-2', monitor_id: monitor.body.id, status_field: 'status', secret: 'shared-secret-2' });
    expect(second.status).toBe(201);

    const before = await sealedColumns();
    expect(before).toHaveLength(6);
    expect(before.every((v) => v.startsWith('enc:v2:old:'))).toBe(true);

    // Without the keys it is bad usage, and nothing is touched.
    const bare = await runTocsin(['admin', 'reseal', '--database-url', stack.database.url], { TOCSIN_ENCRYPTION_KEY: undefined });
    expect(bare.code).toBe(2);
    expect(bare.stderr).toMatch(/TOCSIN_ENCRYPTION_KEY is not set/);

    // One receiver under a key nobody lists any more: named in a warning, never its value.
    const { rows } = await db.query<{ secret: string }>(
      "UPDATE receivers SET secret = regexp_replace(secret, '^enc:v2:old:', 'enc:v2:lost:') WHERE id = $1 RETURNING secret",
      [second.body.id],
    );
    const orphan = rows[0]!.secret;
    const run = await runTocsin(['admin', 'reseal', '--json', '--database-url', stack.database.url], { TOCSIN_ENCRYPTION_KEY: `${NEW},${OLD}` });
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout) as { resealed: number; unreadable: Array<{ table: string; column: string; id: string; error_class: string }> };
    expect(report.resealed).toBe(5);
    expect(report.unreadable).toEqual([expect.objectContaining({ table: 'receivers', column: 'secret', id: second.body.id, error_class: 'secret_unreadable' })]);
    expect(run.stderr).toContain(`receiver ${second.body.id}`);
    expect(run.stderr).not.toContain(orphan);
    expect(run.stderr).not.toContain('shared-secret-2');

    const after = await sealedColumns();
    expect(after.filter((v) => v.startsWith('enc:v2:new:'))).toHaveLength(5);
    expect(after.filter((v) => v.startsWith('enc:v2:lost:'))).toHaveLength(1);

    // Once the row is replaced, the old key can go: a second run with the new key alone has nothing left to do.
    await db.query('DELETE FROM receivers WHERE id = $1', [second.body.id]);
    const again = await runTocsin(['admin', 'reseal', '--database-url', stack.database.url], { TOCSIN_ENCRYPTION_KEY: NEW });
    expect(again).toMatchObject({ code: 0 });
    expect(again.stdout).toMatch(/re-sealed 0 row\(s\) with key new/);
  }, 60_000);
});
