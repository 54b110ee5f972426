import { z } from 'zod';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

/** Where the apps (and the operator commands) find Postgres when DATABASE_URL is unset: the local one. */
export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/tocsin';

/** Every variable Tocsin reads, validated once at boot; a bad one stops start-up by name. */
export const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  PORT: z.coerce.number().int().min(0).max(65535).optional(),
  DATABASE_URL: z.url().default(DEFAULT_DATABASE_URL),
  KAFKA_BROKERS: z
    .string()
    .min(1)
    .default('127.0.0.1:9092')
    .transform((s) => s.split(',').map((b) => b.trim()).filter(Boolean)),
  KAFKA_CLIENT_ID: z.string().default('tocsin'),
  TOCSIN_TOPIC_NAMESPACE: z.string().regex(/^[a-zA-Z0-9._-]*$/).default(''),
  TOCSIN_TOPIC_PARTITIONS: z.coerce.number().int().min(1).max(1000).default(6),
  TOCSIN_ADMIN_TOKEN: z.string().min(16).optional(),
  TOCSIN_ALLOW_PRIVATE_URLS: bool.default(false),
  TOCSIN_MIN_INTERVAL_SECONDS: z.coerce.number().int().min(1).default(30),
  TOCSIN_DASHBOARD_URL: z.url().default('http://127.0.0.1:8080'),
  TOCSIN_MIGRATE_ON_BOOT: bool.default(true),
  TOCSIN_DISPATCH_CONCURRENCY: z.coerce.number().int().min(1).max(2000).default(512),
  /** Attempts in flight to one endpoint at a time; one slow endpoint holds only these. */
  TOCSIN_ENDPOINT_CONCURRENCY: z.coerce.number().int().min(1).max(100).default(16),
  /** Consecutive retriable failures (5xx, timeouts, connection errors) that open an endpoint's breaker. */
  TOCSIN_BREAKER_THRESHOLD: z.coerce.number().int().min(1).max(1000).default(5),
  /** How long an open breaker holds an endpoint's deliveries before one half-open probe; doubles per reopening, up to 10 min. */
  TOCSIN_BREAKER_COOLDOWN_MS: z.coerce.number().int().min(100).max(3_600_000).default(30_000),
  /** Finished deliveries leave the deliveries table after this many days; their events stay in the log. */
  TOCSIN_DELIVERY_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  TOCSIN_DISPATCH_POLL_MS: z.coerce.number().int().min(10).max(60_000).default(250),
  TOCSIN_OUTBOX_POLL_MS: z.coerce.number().int().min(10).max(60_000).default(200),
  TOCSIN_MONITOR_REFRESH_MS: z.coerce.number().int().min(100).max(600_000).default(5_000),
  /** Probes one probe-ingest replica runs at once. */
  TOCSIN_PROBE_CONCURRENCY: z.coerce.number().int().min(1).max(10_000).default(64),
  /** A probe's lease lasts its timeout plus this; a replica killed mid-probe frees it then. */
  TOCSIN_PROBE_LEASE_GRACE_MS: z.coerce.number().int().min(100).max(600_000).default(3_000),
  /** Probe-results partitions the router applies at once (overlaps Postgres round trips). */
  TOCSIN_ROUTER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(3),
  /** How late (by observed_at) a probe result may arrive and still be applied in its place. */
  TOCSIN_REORDER_TOLERANCE_MS: z.coerce.number().int().min(0).max(3_600_000).default(0),
  /** Published outbox rows are deleted once older than this. */
  TOCSIN_OUTBOX_RETENTION_SECONDS: z.coerce.number().int().min(0).max(31_536_000).default(86_400),
  /** Event ids kept to drop replays (processed_messages) are deleted once older than this. */
  TOCSIN_DEDUP_RETENTION_SECONDS: z.coerce.number().int().min(60).max(31_536_000).default(604_800),
  /**
   * Seals secrets at rest: comma-separated keys, newest first, each base64 of 32 bytes or
   * `<id>:<base64>`. Apps that store or read secrets refuse to start without it.
   */
  TOCSIN_ENCRYPTION_KEY: z.string().min(1).optional(),
  /** Requests a second each API key may make on average (0 turns the limit off); 429 with Retry-After beyond. */
  TOCSIN_RATE_LIMIT_PER_SECOND: z.coerce.number().min(0).max(100_000).default(100),
  /** How many requests a key may make at once before the average applies. */
  TOCSIN_RATE_LIMIT_BURST: z.coerce.number().int().min(1).max(1_000_000).default(200),
});

export type TocsinConfig = z.output<typeof envSchema>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Record<string, string> = {}): TocsinConfig {
  const merged = { ...env, ...overrides };
  const input = Object.fromEntries(
    Object.keys(envSchema.shape).map((k) => [k, merged[k] === '' && k !== 'TOCSIN_TOPIC_NAMESPACE' ? undefined : merged[k]]),
  );
  const result = envSchema.safeParse(input);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  return result.data;
}
