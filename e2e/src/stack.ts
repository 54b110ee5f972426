import { randomBytes } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { apiService } from '@tocsin/api';
import { loadConfig, type TocsinConfig } from '@tocsin/config';
import { dispatcherService } from '@tocsin/dispatcher';
import { probeIngestService } from '@tocsin/probe-ingest';
import { createService, ReadinessRegistry, type ServiceDefinition } from '@tocsin/runtime';
import { severityRouterService } from '@tocsin/severity-router';
import { createTestDatabase, waitFor, type TestDatabase } from '@tocsin/testing';

export type AppName = 'api' | 'probe-ingest' | 'severity-router' | 'dispatcher';

const SERVICES: Record<AppName, ServiceDefinition> = {
  api: apiService,
  'probe-ingest': probeIngestService,
  'severity-router': severityRouterService,
  dispatcher: dispatcherService,
};

export const ADMIN_TOKEN = 'e2e-admin-token-0123456789';

export interface Stack {
  readonly config: TocsinConfig;
  readonly database: TestDatabase;
  readonly apiUrl: string;
  readonly apps: ReadonlyMap<AppName, INestApplication>;
  stop(name: AppName): Promise<void>;
  /** Starts a fresh instance of an app, as a restarted pod would be. */
  start(name: AppName): Promise<void>;
  close(): Promise<void>;
}

/**
 * Every requested app in this process, on its own fresh database and its own topic
 * namespace, so test files never see each other's records, rows or consumer groups.
 */
export async function startStack(names: readonly AppName[], env: Record<string, string> = {}): Promise<Stack> {
  const database = await createTestDatabase();
  const config = loadConfig(process.env, {
    DATABASE_URL: database.url,
    TOCSIN_TOPIC_NAMESPACE: `e2e-${randomBytes(4).toString('hex')}.`,
    TOCSIN_TOPIC_PARTITIONS: '3',
    TOCSIN_ALLOW_PRIVATE_URLS: 'true',
    TOCSIN_MIN_INTERVAL_SECONDS: '1',
    TOCSIN_ADMIN_TOKEN: ADMIN_TOKEN,
    TOCSIN_MIGRATE_ON_BOOT: 'false',
    TOCSIN_DISPATCH_POLL_MS: '50',
    TOCSIN_OUTBOX_POLL_MS: '50',
    TOCSIN_MONITOR_REFRESH_MS: '200',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'error',
    TOCSIN_ENCRYPTION_KEY: process.env.TOCSIN_ENCRYPTION_KEY ?? randomBytes(32).toString('base64'),
    ...env,
  });
  const apps = new Map<AppName, INestApplication>();
  const start = async (name: AppName) => {
    const app = await createService(SERVICES[name], config);
    await app.listen(0, '127.0.0.1');
    apps.set(name, app);
  };
  const ready = async (app: INestApplication) => {
    const readiness = app.get(ReadinessRegistry);
    await waitFor(async () => (await readiness.evaluate()).ready, { description: 'apps ready', timeoutMs: 60_000 });
  };
  for (const name of names) await start(name);
  for (const app of apps.values()) await ready(app);
  const api = apps.get('api');
  return {
    config,
    database,
    apiUrl: api ? (await api.getUrl()).replace('[::1]', '127.0.0.1') : '',
    apps,
    stop: async (name) => {
      await apps.get(name)?.close();
      apps.delete(name);
    },
    start: async (name) => {
      await start(name);
      await ready(apps.get(name)!);
    },
    close: async () => {
      for (const app of [...apps.values()].reverse()) await app.close();
      await database.drop();
    },
  };
}
