/** What every benchmark needs around the code it measures: ports, app processes, API calls, percentiles. */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { appMainArgs } from '@tocsin/testing';

/** A TCP port free on loopback right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** A built app as its own process, with the node flags it declares; its stderr is ours. */
export function startApp(name: string, env: NodeJS.ProcessEnv, nodeArgs: readonly string[] = []): ChildProcess {
  const child = spawn(process.execPath, [...nodeArgs, ...appMainArgs(name)], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  child.once('exit', (code) => {
    if (code !== 0 && code !== null) process.stderr.write(`${name} exited with ${code}\n`);
  });
  return child;
}

/** One JSON API call; anything but 2xx throws with the answer's text. */
export async function call<T>(method: string, url: string, token: string, body?: unknown): Promise<T> {
  const res = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!res.ok) throw new Error(`${method} ${url} → ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** The p-th percentile (nearest rank) of ascending values; NaN for none. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/**
 * The environment the apps under test get: this benchmark's database, broker and topic
 * namespace, loopback targets allowed, migrations already applied, errors-only logs.
 */
export function appEnv(opts: {
  databaseUrl: string;
  namespace: string;
  adminToken: string;
  brokers?: readonly string[];
  partitions?: string;
}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    DATABASE_URL: opts.databaseUrl,
    ...(opts.brokers ? { KAFKA_BROKERS: opts.brokers.join(',') } : {}),
    TOCSIN_TOPIC_NAMESPACE: opts.namespace,
    ...(opts.partitions ? { TOCSIN_TOPIC_PARTITIONS: opts.partitions } : {}),
    TOCSIN_ADMIN_TOKEN: opts.adminToken,
    TOCSIN_ALLOW_PRIVATE_URLS: 'true',
    TOCSIN_MIGRATE_ON_BOOT: 'false',
    TOCSIN_ENCRYPTION_KEY: process.env.TOCSIN_ENCRYPTION_KEY || randomBytes(32).toString('base64'),
    LOG_LEVEL: 'error',
  };
}

/** A figure as the benchmarks print it: rounded, thousands apart by a space (21 345). */
export const fmt = (n: number) => Math.round(n).toLocaleString('en-US').replace(/,/g, ' ');

/**
 * Writes monitors straight into the database, 10 000 a statement, for benchmarks that drive
 * their results themselves (no probe-ingest runs): `kind mcp`, confirm after 3, recover after 1.
 */
export async function insertMonitors(db: { query(sql: string, params: unknown[]): Promise<unknown> }, tenantId: string, ids: readonly string[]): Promise<void> {
  for (let i = 0; i < ids.length; i += 10_000) {
    await db.query(
      `INSERT INTO monitors (id, tenant_id, slug, name, url, kind, interval_seconds, timeout_ms, confirm_after, recover_after)
       SELECT id, $1, 'm-' || ($3::int + n), 'm', 'https://example.com/mcp', 'mcp', 60, 10000, 3, 1
       FROM unnest($2::uuid[]) WITH ORDINALITY AS x(id, n)`,
      [tenantId, ids.slice(i, i + 10_000), i],
    );
  }
}
