import { z } from 'zod';
import { OPERATIONAL_EVENT_TYPES, SEVERITIES, WEBHOOK_EVENT_TYPES } from '@tocsin/contracts';
import { ENDPOINT_TYPES } from '@tocsin/database';
import { isWebhookSecret } from '@tocsin/signing';
import { listQuerySchema } from '../common/pagination';
import { headersSchema, httpUrl } from '../monitors/monitor.schemas';

export const DEFAULT_RETRY_SCHEDULE = [0, 30, 120, 600, 1800];

const fields = {
  name: z.string().trim().min(1).max(200),
  url: httpUrl,
  /** Alert types (`*` for all of them) and, for a webhook endpoint, operational notices by name. */
  events: z.array(z.enum(['*', ...WEBHOOK_EVENT_TYPES, ...OPERATIONAL_EVENT_TYPES])).min(1),
  severities: z.array(z.enum(SEVERITIES)).min(1),
  include_recovery: z.boolean(),
  method: z.enum(['POST', 'PUT']),
  headers: headersSchema.refine(
    (h) => !Object.keys(h).some((k) => /^(webhook-|x-tocsin-|content-type$|content-length$|host$)/i.test(k)),
    'may not override signature, content or host headers',
  ),
  secret: z.string().refine(isWebhookSecret, 'must look like whsec_<base64 of at least 24 bytes>'),
  retry_schedule_seconds: z.array(z.number().int().min(0).max(86_400)).min(1).max(20),
  timeout_ms: z.number().int().min(1_000).max(30_000),
  /** Another of the tenant's endpoints that takes the P1s this one cannot deliver; null for none. */
  fallback_endpoint_id: z.uuid().nullable(),
};

/** An email endpoint's recipients at most; a list is what mailing lists are for. */
export const MAX_EMAIL_RECIPIENTS = 20;

/**
 * What a destination other than a webhook needs: a PagerDuty Events API v2 integration's
 * routing key or a Slack incoming webhook's URL (which is itself the secret), both sealed at
 * rest; or an email endpoint's recipients.
 */
const destinationConfig = z.strictObject({
  routing_key: z.string().regex(/^[A-Za-z0-9]{32}$/, 'must be the 32-character integration key of a PagerDuty Events API v2 integration').optional(),
  url: httpUrl.optional(),
  to: z
    .array(z.email({ message: 'must be an email address' }).max(254))
    .min(1)
    .max(MAX_EMAIL_RECIPIENTS)
    .refine((to) => new Set(to.map((a) => a.toLowerCase())).size === to.length, 'lists an address twice')
    .optional(),
  /** A kafka endpoint's bootstrap brokers (`host:port`) and topic, with SASL credentials and TLS when the cluster asks. */
  brokers: z
    .array(z.string().regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, 'must be host:port'))
    .min(1)
    .max(10)
    .optional(),
  topic: z.string().regex(/^[A-Za-z0-9._-]{1,249}$/, 'must be a Kafka topic name (letters, digits, . _ -)').optional(),
  sasl: z
    .strictObject({ mechanism: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']), username: z.string().min(1).max(500), password: z.string().min(1).max(500) })
    .optional(),
  ssl: z.boolean().optional(),
});
export type DestinationConfig = z.output<typeof destinationConfig>;

/** The config keys each destination type requires, then those it may take. */
const CONFIG_KEYS = {
  pagerduty: { required: ['routing_key'], optional: [] },
  slack: { required: ['url'], optional: [] },
  email: { required: ['to'], optional: [] },
  kafka: { required: ['brokers', 'topic'], optional: ['sasl', 'ssl'] },
} as const satisfies Record<string, { required: ReadonlyArray<keyof DestinationConfig>; optional: ReadonlyArray<keyof DestinationConfig> }>;

/** The config key that names each destination type's target, as error messages call it. */
export const CONFIG_KEY = { pagerduty: 'routing_key', slack: 'url', email: 'to', kafka: 'brokers' } as const;

export const createEndpointSchema = z
  .strictObject({
  ...fields,
  /**
   * `webhook` (default): a signed POST to `url`. `pagerduty`: Events API v2 with
   * `config.routing_key`. `slack`: a Slack message to the incoming webhook `config.url`.
   * `email`: a message to `config.to` through the dispatcher's mail server. `kafka`: a
   * record on `config.topic` of the tenant's cluster at `config.brokers`.
   */
  type: z.enum(ENDPOINT_TYPES).default('webhook'),
  url: fields.url.optional(),
  config: destinationConfig.optional(),
  events: fields.events.default(['*']),
  severities: fields.severities.default([...SEVERITIES]),
  include_recovery: fields.include_recovery.default(true),
  method: fields.method.default('POST'),
  headers: fields.headers.default({}),
  secret: fields.secret.optional(),
  retry_schedule_seconds: fields.retry_schedule_seconds.default(DEFAULT_RETRY_SCHEDULE),
  timeout_ms: fields.timeout_ms.default(10_000),
  fallback_endpoint_id: fields.fallback_endpoint_id.default(null),
})
  .superRefine((body, ctx) => {
    if (body.type === 'webhook') {
      if (body.url === undefined) ctx.addIssue({ code: 'custom', path: ['url'], message: 'is required for a webhook endpoint' });
      if (body.config !== undefined) ctx.addIssue({ code: 'custom', path: ['config'], message: 'is for a pagerduty, slack, email or kafka endpoint; a webhook endpoint takes url' });
      return;
    }
    for (const issue of configIssues(body.type, body.config)) ctx.addIssue({ code: 'custom', ...issue });
    const notices = operationalIn(body.events);
    if (notices.length > 0) {
      ctx.addIssue({ code: 'custom', path: ['events'], message: `${notices.join(', ')}: operational notices go to webhook endpoints only` });
    }
    // The destination authenticates its own key or URL: nothing of a webhook's request applies.
    const unused: Array<[string, boolean]> = [
      ['url', body.url !== undefined],
      ['secret', body.secret !== undefined],
      ['headers', Object.keys(body.headers).length > 0],
      ['method', body.method !== 'POST'],
    ];
    for (const [field, given] of unused) {
      if (given) ctx.addIssue({ code: 'custom', path: [field], message: `does not apply to a ${body.type} endpoint (it sends where its config says)` });
    }
  });

/** The operational notice types among an endpoint's events. */
export function operationalIn(events: readonly string[]): string[] {
  return events.filter((e) => (OPERATIONAL_EVENT_TYPES as readonly string[]).includes(e));
}

/** What is wrong with a destination's config for its type: its own key missing, another type's given. */
export function configIssues(type: keyof typeof CONFIG_KEYS, config: DestinationConfig | undefined): Array<{ path: string[]; message: string }> {
  const { required, optional } = CONFIG_KEYS[type];
  const missing = required.find((key) => config?.[key] === undefined);
  if (missing) return [{ path: ['config', missing], message: `is required for a ${type} endpoint` }];
  const known: readonly string[] = [...required, ...optional];
  return Object.keys(config ?? {})
    .filter((k) => !known.includes(k))
    .map((k) => ({ path: ['config', k], message: `does not apply to a ${type} endpoint` }));
}
export type CreateEndpointBody = z.output<typeof createEndpointSchema>;

export const updateEndpointSchema = z.strictObject({ ...fields, config: destinationConfig }).omit({ secret: true }).partial();
export type UpdateEndpointBody = z.output<typeof updateEndpointSchema>;

export const DEFAULT_ROTATION_OVERLAP_SECONDS = 600;

export const rotateSecretSchema = z.strictObject({
  overlap_seconds: z.number().int().min(0).max(7 * 86_400).default(DEFAULT_ROTATION_OVERLAP_SECONDS),
});
export type RotateSecretBody = z.output<typeof rotateSecretSchema>;

/** One replay re-sends at most this long a stretch of deliveries, and at most this many. */
export const MAX_REPLAY_DAYS = 7;
export const MAX_REPLAY_DELIVERIES = 10_000;

export const replaySchema = z
  .strictObject({
    from: z.iso.datetime({ offset: true }),
    to: z.iso.datetime({ offset: true }),
    dry_run: z.boolean().default(false),
  })
  .refine((b) => Date.parse(b.from) < Date.parse(b.to), { message: 'must be later than from', path: ['to'] })
  .refine((b) => Date.parse(b.to) - Date.parse(b.from) <= MAX_REPLAY_DAYS * 86_400_000, {
    message: `at most ${MAX_REPLAY_DAYS} days after from; replay a longer stretch in several requests`,
    path: ['to'],
  });
export type ReplayBody = z.output<typeof replaySchema>;

export const DELIVERY_STATUSES = ['pending', 'in_flight', 'retrying', 'delivered', 'failed', 'dead_lettered', 'skipped'] as const;

export const deliveryListQuerySchema = listQuerySchema.extend({
  status: z.enum(DELIVERY_STATUSES).optional(),
});
export type DeliveryListQuery = z.output<typeof deliveryListQuerySchema>;
