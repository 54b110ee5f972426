import type { EntityManager } from 'typeorm';
import { withOperatorDatabase, type OperatorStep, type PreviousSecret } from '@tocsin/database';
import { isSealed, sealedIn, SecretUnreadableError, type SecretBox } from '@tocsin/secrets';

/** A stored secret the re-seal could not open: left as it is, its own row's work fails, nothing else's. */
export interface UnreadableSecret {
  readonly table: 'monitors' | 'endpoints' | 'receivers';
  readonly column: string;
  readonly id: string;
  readonly tenant_id: string;
  readonly error_class: 'secret_unreadable';
  readonly reason: string;
}

export interface ResealReport {
  /** Rows whose secret columns were sealed (plain before) or re-sealed (older key or envelope) now. */
  readonly resealed: number;
  readonly unreadable: readonly UnreadableSecret[];
}

/** One log line for an unreadable row: its id and class, never its value. */
export function describeUnreadable(row: UnreadableSecret): string {
  return `${row.table}.${row.column} of ${row.table.replace(/s$/, '')} ${row.id} (tenant ${row.tenant_id}) is ${row.error_class}: ${row.reason}; it was left as it is`;
}

/**
 * Seals every secret column stored in plaintext by earlier versions, and re-seals every one
 * sealed with an older key or envelope, so an old key can be dropped: monitor headers,
 * endpoint secrets and their previous secrets, endpoint headers, receiver secrets.
 *
 * Run at boot by the apps that hold the key and by `tocsin admin reseal`. A value that
 * cannot be opened (its key is gone, or it does not authenticate) is skipped and reported
 * with its row, never thrown: one unreadable row must not stop a process that serves every
 * tenant. A row another replica changed meanwhile is left as that replica wrote it.
 */
export async function sealStoredSecrets(
  manager: EntityManager,
  box: SecretBox,
  onUnreadable: (row: UnreadableSecret) => void = () => undefined,
): Promise<ResealReport> {
  const current = `enc:v2:${box.currentKeyId}:%`;
  const unreadable: UnreadableSecret[] = [];
  let resealed = 0;

  /** Applies `change` to one row; an unreadable value is recorded and the row skipped. */
  const each = async <R extends { id: string; tenant_id: string }>(
    table: UnreadableSecret['table'],
    column: string,
    rows: readonly R[],
    change: (row: R) => Promise<number>,
  ): Promise<void> => {
    for (const row of rows) {
      try {
        resealed += await change(row);
      } catch (err) {
        if (!(err instanceof SecretUnreadableError)) throw err;
        const skipped: UnreadableSecret = { table, column, id: row.id, tenant_id: row.tenant_id, error_class: 'secret_unreadable', reason: err.message };
        unreadable.push(skipped);
        onUnreadable(skipped);
      }
    }
  };
  const updated = async (sql: string, params: unknown[]): Promise<number> => {
    const result: [unknown[], number] = await manager.query(sql, params);
    return result[1];
  };
  const resealText = (value: string, place: string) => (isSealed(value) ? box.reseal(value, place) : box.seal(value, place));

  const secrets: Array<{ id: string; tenant_id: string; secret: string }> = await manager.query(
    'SELECT id, tenant_id, secret FROM endpoints WHERE secret NOT LIKE $1',
    [current],
  );
  await each('endpoints', 'secret', secrets, async (row) => {
    const next = resealText(row.secret, sealedIn.endpointSecret(row.id));
    if (next === row.secret) return 0;
    return updated('UPDATE endpoints SET secret = $2 WHERE id = $1 AND secret = $3', [row.id, next, row.secret]);
  });

  const previous: Array<{ id: string; tenant_id: string; previous_secrets: PreviousSecret[] }> = await manager.query(
    `SELECT id, tenant_id, previous_secrets FROM endpoints
     WHERE EXISTS (SELECT 1 FROM jsonb_array_elements(previous_secrets) p WHERE p->>'secret' NOT LIKE $1)`,
    [current],
  );
  await each('endpoints', 'previous_secrets', previous, async (row) => {
    const next = row.previous_secrets.map((p) => ({ ...p, secret: resealText(p.secret, sealedIn.endpointSecret(row.id)) }));
    return updated('UPDATE endpoints SET previous_secrets = $2::jsonb WHERE id = $1 AND previous_secrets = $3::jsonb', [
      row.id,
      JSON.stringify(next),
      JSON.stringify(row.previous_secrets),
    ]);
  });

  // Headers: plain ones (rows from before sealing) move into the sealed column, the sealed
  // value winning a name both hold, as the senders read them.
  for (const table of ['endpoints', 'monitors'] as const) {
    const rows: Array<{ id: string; tenant_id: string; headers: Record<string, string>; sealed_headers: string | null }> = await manager.query(
      `SELECT id, tenant_id, headers, sealed_headers FROM ${table}
       WHERE headers <> '{}'::jsonb OR (sealed_headers IS NOT NULL AND sealed_headers NOT LIKE $1)`,
      [current],
    );
    const place = table === 'endpoints' ? sealedIn.endpointHeaders : sealedIn.monitorHeaders;
    await each(table, 'sealed_headers', rows, async (row) => {
      const plain = Object.keys(row.headers).length > 0;
      if (!plain) {
        const next = box.reseal(row.sealed_headers!, place(row.id));
        if (next === row.sealed_headers) return 0;
        return updated(`UPDATE ${table} SET sealed_headers = $2 WHERE id = $1 AND sealed_headers = $3`, [row.id, next, row.sealed_headers]);
      }
      const opened = row.sealed_headers === null ? {} : box.openJson<Record<string, string>>(row.sealed_headers, place(row.id));
      const headers = { ...row.headers, ...opened };
      return updated(
        `UPDATE ${table} SET headers = '{}'::jsonb, sealed_headers = $2, header_names = $3::jsonb
         WHERE id = $1 AND headers = $4::jsonb AND sealed_headers IS NOT DISTINCT FROM $5`,
        [row.id, box.sealJson(headers, place(row.id)), JSON.stringify(Object.keys(headers).sort()), JSON.stringify(row.headers), row.sealed_headers],
      );
    });
  }

  const receivers: Array<{ id: string; tenant_id: string; secret: string }> = await manager.query(
    'SELECT id, tenant_id, secret FROM receivers WHERE secret IS NOT NULL AND secret NOT LIKE $1',
    [current],
  );
  await each('receivers', 'secret', receivers, async (row) => {
    const next = resealText(row.secret, sealedIn.receiverSecret(row.id));
    if (next === row.secret) return 0;
    return updated('UPDATE receivers SET secret = $2 WHERE id = $1 AND secret = $3', [row.id, next, row.secret]);
  });

  return { resealed, unreadable };
}

/** Refusals of `tocsin admin reseal` an operator can act on: which step failed, on which database. */
export class ResealFailedError extends Error {
  override readonly name = 'ResealFailedError';
}

/**
 * What `tocsin admin reseal` runs: connects to `databaseUrl`, applies pending migrations,
 * seals or re-seals every secret column with the box's current key, and disconnects.
 * Unreadable rows are in the report, not thrown.
 */
export async function resealDatabase(
  databaseUrl: string,
  box: SecretBox,
  onUnreadable: (row: UnreadableSecret) => void = () => undefined,
  connectTimeoutMs = 10_000,
): Promise<ResealReport & OperatorStep> {
  return withOperatorDatabase(
    databaseUrl,
    (dataSource) => sealStoredSecrets(dataSource.manager, box, onUnreadable),
    (where) => `re-sealing the secrets at ${where} stopped`,
    (message, cause) => new ResealFailedError(message, { cause }),
    connectTimeoutMs,
  );
}
