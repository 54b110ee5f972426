import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { appMainArgs, FaultProxy, waitFor } from '@tocsin/testing';

/* eslint-disable @typescript-eslint/no-require-imports -- the local harness is plain CommonJS */
const { startKafka, getFreePort } = require('@tocsin/local/lib/kafka') as {
  startKafka(opts: { port: number; cacheDir?: string; client: { port: number; advertisedPort: number }; log?: (line: string) => void }): Promise<Broker>;
  getFreePort(): Promise<number>;
};
const { embeddedServer } = require('@tocsin/local/lib/postgres') as {
  embeddedServer(opts: { dataDir: string; port: number }): Promise<OwnedPostgres>;
};
/* eslint-enable @typescript-eslint/no-require-imports */

export const APP_NAMES = ['api', 'probe-ingest', 'severity-router', 'dispatcher'] as const;
export type AppName = (typeof APP_NAMES)[number];

export interface Broker {
  /** The broker's own listener, not through the fault proxy: the harness's clients use it. */
  readonly brokers: string;
  down(opts?: { signal?: 'SIGTERM' | 'SIGKILL' }): Promise<void>;
  up(): Promise<void>;
  stop(): Promise<void>;
}

export interface OwnedPostgres {
  readonly url: string;
  restart(): Promise<void>;
  crash(): Promise<void>;
  stop(): Promise<void>;
}

/** One app as its own process on a fixed port, restartable as a pod is. */
export class AppProcess {
  private child?: ChildProcess;
  private exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> = Promise.resolve({ code: 0, signal: null });

  constructor(
    readonly name: AppName,
    readonly port: number,
    private readonly env: NodeJS.ProcessEnv,
    private readonly logFile: string,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts the process and waits for its readiness. */
  async start(): Promise<void> {
    const log = createWriteStream(this.logFile, { flags: 'a' });
    const child = spawn(process.execPath, appMainArgs(this.name), { env: { ...this.env, PORT: String(this.port) }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.pipe(log);
    child.stderr!.pipe(log);
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    await waitFor(
      async () => {
        if (!this.running) throw new Error(`${this.name} exited while starting (log: ${this.logFile})`);
        return (await fetch(`${this.url}/health/ready`).catch(() => undefined))?.ok === true;
      },
      { timeoutMs: 90_000, intervalMs: 100, description: `${this.name} ready on :${this.port}` },
    );
  }

  /** SIGKILL: a crash, nothing drained. */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.child!.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM, as Kubernetes stops a pod: resolves the exit code and how long the drain took. */
  async terminate(): Promise<{ code: number | null; ms: number }> {
    const started = Date.now();
    this.child!.kill('SIGTERM');
    const { code } = await this.exited;
    return { code, ms: Date.now() - started };
  }
}

/**
 * Everything the chaos run owns: a Postgres server and a Kafka broker of its own (so it can
 * restart and kill them without touching anything else on the machine), the fault proxy
 * the apps reach the broker through, and the four apps as processes.
 */
export class World {
  private constructor(
    readonly dir: string,
    readonly postgres: OwnedPostgres,
    readonly broker: Broker,
    readonly proxy: FaultProxy,
    readonly apps: Record<AppName, AppProcess>,
    readonly env: NodeJS.ProcessEnv,
    readonly adminToken: string,
  ) {}

  static async create(namespace: string, log: (line: string) => void): Promise<World> {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tocsin-chaos-'));
    // The embedded Postgres runs as the postgres user when we are root: it must enter the folder.
    spawnSync('chmod', ['755', dir]);
    const postgres = await embeddedServer({ dataDir: path.join(dir, 'postgres'), port: await getFreePort() });
    const clientPort = await getFreePort();
    const proxy = await FaultProxy.start(clientPort);
    const broker = await startKafka({ port: await getFreePort(), client: { port: clientPort, advertisedPort: proxy.port }, log });
    const adminToken = `chaos-admin-${randomBytes(8).toString('hex')}`;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DATABASE_URL: postgres.url,
      KAFKA_BROKERS: `127.0.0.1:${proxy.port}`,
      TOCSIN_TOPIC_NAMESPACE: namespace,
      TOCSIN_TOPIC_PARTITIONS: '3',
      TOCSIN_ADMIN_TOKEN: adminToken,
      TOCSIN_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      TOCSIN_ALLOW_PRIVATE_URLS: 'true',
      TOCSIN_MIGRATE_ON_BOOT: 'false',
      TOCSIN_MIN_INTERVAL_SECONDS: '1',
      TOCSIN_DISPATCH_POLL_MS: '50',
      TOCSIN_OUTBOX_POLL_MS: '50',
      TOCSIN_MONITOR_REFRESH_MS: '200',
      TOCSIN_PROBE_LEASE_GRACE_MS: '1000',
      TOCSIN_BREAKER_COOLDOWN_MS: '1000',
      TOCSIN_RATE_LIMIT_PER_SECOND: '0',
      TOCSIN_QUOTA_PUSHED_RESULTS_PER_SECOND: '0',
      LOG_LEVEL: 'warn',
      HOST: '127.0.0.1',
    };
    const migrated = spawnSync(process.execPath, [require.resolve('@tocsin/database/dist/migrate-cli.js')], { env, encoding: 'utf8' });
    if (migrated.status !== 0) throw new Error(`migrations failed: ${migrated.stderr}`);
    mkdirSync(path.join(dir, 'logs'));
    const apps = {} as Record<AppName, AppProcess>;
    for (const name of APP_NAMES) apps[name] = new AppProcess(name, await getFreePort(), env, path.join(dir, 'logs', `${name}.log`));
    const world = new World(dir, postgres, broker, proxy, apps, env, adminToken);
    for (const name of APP_NAMES) await apps[name].start();
    return world;
  }

  get apiUrl(): string {
    return `${this.apps.api.url}/v1`;
  }

  /** Where an app's log is, for a failure message. */
  logOf(name: AppName): string {
    return path.join(this.dir, 'logs', `${name}.log`);
  }

  async close(): Promise<void> {
    await Promise.all(APP_NAMES.map((name) => this.apps[name].kill()));
    await this.proxy.close();
    await this.broker.stop();
    await this.postgres.stop();
    // The apps' logs stay, for a failure to be read after the run; the database goes.
    rmSync(path.join(this.dir, 'postgres'), { recursive: true, force: true });
  }
}
