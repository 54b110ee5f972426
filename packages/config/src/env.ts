import { isIP } from 'node:net';
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
  /**
   * How long a consumer group waits for a member that stopped heartbeating before it hands
   * that member's partitions on: after a crash or a broker restart, alerts wait this long.
   * The broker must allow it (group.min/max.session.timeout.ms: 6 s to 30 min by default).
   */
  KAFKA_SESSION_TIMEOUT_MS: z.coerce.number().int().min(6_000).max(1_800_000).default(10_000),
  TOCSIN_TOPIC_NAMESPACE: z.string().regex(/^[a-zA-Z0-9._-]*$/).default(''),
  TOCSIN_TOPIC_PARTITIONS: z.coerce.number().int().min(1).max(1000).default(6),
  TOCSIN_ADMIN_TOKEN: z.string().min(16).optional(),
  TOCSIN_ALLOW_PRIVATE_URLS: bool.default(false),
  TOCSIN_MIN_INTERVAL_SECONDS: z.coerce.number().int().min(1).default(30),
  TOCSIN_DASHBOARD_URL: z.url().default('http://127.0.0.1:8080'),
  /** Where `pagerduty` endpoints send their events (PagerDuty's Events API v2); a stand-in's address in tests. */
  PAGERDUTY_EVENTS_URL: z.url({ protocol: /^https?$/ }).default('https://events.pagerduty.com/v2/enqueue'),
  /**
   * The mail server `email` endpoints send through: `smtp://user:pass@host:587` (STARTTLS
   * when offered) or `smtps://…:465`. Unset, email deliveries wait and retry with that error.
   */
  TOCSIN_SMTP_URL: z.url({ protocol: /^smtps?$/ }).optional(),
  /** The From of every alert email. */
  TOCSIN_SMTP_FROM: z.string().min(3).default('Tocsin <tocsin@localhost>'),
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
  /** Results stamped further than this in the future are refused (push: per item; Kafka: DLQ). */
  TOCSIN_MAX_CLOCK_SKEW_SECONDS: z.coerce.number().int().min(0).max(86_400).default(300),
  /** Attempts one tenant may have in flight at once; default a quarter of TOCSIN_DISPATCH_CONCURRENCY. */
  TOCSIN_TENANT_MAX_IN_FLIGHT: z.coerce.number().int().min(1).max(2000).optional(),
  /** An attempt slower than this counts against its endpoint's breaker even when it answered 2xx. */
  TOCSIN_BREAKER_SLOW_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
  /** The most a probe reads of one reply (and of a tools list across its pages). */
  TOCSIN_PROBE_MAX_RESPONSE_BYTES: z.coerce.number().int().min(1024).max(64 * 1024 * 1024).default(4 * 1024 * 1024),
  /**
   * Private ranges the SSRF guard lets through all the same (comma-separated CIDRs, e.g.
   * an internal network of MCP servers); everything else private stays refused.
   */
  TOCSIN_ALLOWED_PRIVATE_CIDRS: z.string().default('').transform((s, ctx) => parseCidrs(s, ctx)),
  /** Also consume `tocsin.probe-results.t.<tenant_id>` topics, the tenant taken from the topic name. */
  TOCSIN_TENANT_TOPICS: bool.default(false),
  /** SASL for the apps' own Kafka connections (a secured cluster); unset for none. */
  KAFKA_SASL_MECHANISM: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']).optional(),
  KAFKA_SASL_USERNAME: z.string().min(1).optional(),
  KAFKA_SASL_PASSWORD: z.string().min(1).optional(),
  /** What one tenant may hold unless the operator set its own quotas (PATCH /v1/tenants/:id/quotas). */
  TOCSIN_QUOTA_MONITORS: z.coerce.number().int().min(0).max(10_000_000).default(10_000),
  TOCSIN_QUOTA_ENDPOINTS: z.coerce.number().int().min(0).max(100_000).default(100),
  TOCSIN_QUOTA_RECEIVERS: z.coerce.number().int().min(0).max(100_000).default(100),
  /**
   * Probe results a second one tenant may push on average, over all its keys and requests
   * (0 turns the quota off); a push past it is refused whole with a 429 naming the quota.
   * Bursts up to one second's worth, and never less than one full request (1,000 results).
   */
  TOCSIN_QUOTA_PUSHED_RESULTS_PER_SECOND: z.coerce.number().min(0).max(10_000_000).default(5_000),
  /** Requests a second each API key may make on average (0 turns the limit off); 429 with Retry-After beyond. */
  TOCSIN_RATE_LIMIT_PER_SECOND: z.coerce.number().min(0).max(100_000).default(100),
  /** How many requests a key may make at once before the average applies. */
  TOCSIN_RATE_LIMIT_BURST: z.coerce.number().int().min(1).max(1_000_000).default(200),
  /**
   * On SIGTERM (or SIGINT) an app stops taking work, finishes or hands back what it holds,
   * and exits 0; past this it exits 1 (keep it inside the pod's grace period, less preStop).
   */
  TOCSIN_SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
  /** OTLP/HTTP base of a trace collector (`/v1/traces` is appended); unset, spans carry ids but are not exported. */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url().optional(),
  /** The full OTLP/HTTP traces URL, used as given; wins over OTEL_EXPORTER_OTLP_ENDPOINT. */
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.url().optional(),
  /** How long finished spans wait before they are exported in one request. */
  OTEL_BSP_SCHEDULE_DELAY: z.coerce.number().int().min(10).max(600_000).default(5_000),
});

export type TocsinConfig = z.output<typeof envSchema>;

/** The per-tenant share of the dispatcher's slots in flight. */
export function tenantMaxInFlight(config: Pick<TocsinConfig, 'TOCSIN_TENANT_MAX_IN_FLIGHT' | 'TOCSIN_DISPATCH_CONCURRENCY'>): number {
  return config.TOCSIN_TENANT_MAX_IN_FLIGHT ?? Math.max(1, Math.floor(config.TOCSIN_DISPATCH_CONCURRENCY / 4));
}

export interface Cidr {
  readonly network: string;
  readonly prefix: number;
  readonly family: 'ipv4' | 'ipv6';
}

function parseCidrs(value: string, ctx: z.RefinementCtx): Cidr[] {
  const out: Cidr[] = [];
  for (const entry of value.split(',').map((s) => s.trim()).filter(Boolean)) {
    const [network, bits, ...rest] = entry.split('/');
    const family = network && isIP(network) === 4 ? 'ipv4' : network && isIP(network) === 6 ? 'ipv6' : undefined;
    const prefix = Number(bits);
    const max = family === 'ipv4' ? 32 : 128;
    if (!family || rest.length > 0 || bits === undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > max) {
      ctx.addIssue({ code: 'custom', message: `"${entry}" is not a CIDR such as 10.1.0.0/16 or fd00::/8` });
      continue;
    }
    out.push({ network: network!, prefix, family });
  }
  return out;
}

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
  if ((result.data.KAFKA_SASL_MECHANISM === undefined) !== (result.data.KAFKA_SASL_USERNAME === undefined)) {
    throw new ConfigError('Invalid configuration:\n  KAFKA_SASL_MECHANISM and KAFKA_SASL_USERNAME go together');
  }
  return result.data;
}
