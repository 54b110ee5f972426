import { ENDPOINT_TYPES } from '@tocsin/database';
import { z } from 'zod';

/**
 * Answers of the /v1 routes as the presenters write them, for the OpenAPI document (and so for
 * the generated client's types). Loose objects: a field added to a presenter before it is added
 * here still reaches callers, typed as unknown until it is.
 */
const at = z.iso.datetime({ offset: true });
const nullable = <T extends z.ZodType>(schema: T) => schema.nullable();

export const ErrorSchema = z.object({
  statusCode: z.number().int(),
  error: z.string(),
  message: z.string(),
  details: z.unknown().optional(),
});

/** A tenant's own limits as the operator set them; one missing is the deployment's default. */
export const TenantQuotasSchema = z.looseObject({
  id: z.uuid(),
  name: z.string(),
  quotas: z.object({ monitors: z.number().int().optional(), endpoints: z.number().int().optional(), receivers: z.number().int().optional() }),
});

const QuotaUsageSchema = z.object({ limit: z.number().int(), used: z.number().int(), source: z.enum(['tenant', 'default']) });

export const TenantSchema = z.looseObject({
  id: z.uuid(),
  name: z.string(),
  created_at: at.optional(),
  /** GET /v1/tenant only: what the tenant holds against each quota, and each key's request rate. */
  quotas: z
    .object({
      monitors: QuotaUsageSchema,
      endpoints: QuotaUsageSchema,
      receivers: QuotaUsageSchema,
      requests_per_second_per_key: z.object({ limit: z.number(), burst: z.number().int() }),
      pushed_results_per_second: z.object({ limit: z.number() }),
    })
    .optional(),
});
export const IssuedKeySchema = z.looseObject({ id: z.uuid(), tenant_id: z.uuid(), key: z.string(), prefix: z.string() });
export const ApiKeySchema = z.looseObject({
  id: z.uuid(),
  tenant_id: z.uuid(),
  prefix: z.string(),
  created_at: at,
  revoked_at: nullable(at),
});

export const IncidentSchema = z.looseObject({
  dedup_key: z.string(),
  tenant_id: z.uuid(),
  monitor_id: z.uuid(),
  status: z.enum(['open', 'resolved']),
  severity: z.string(),
  failure_layer: nullable(z.string()),
  started_at: at,
  resolved_at: nullable(at),
  probe_count: z.number().int(),
  last_error: nullable(z.string()),
});

export const MonitorSchema = z.looseObject({
  id: z.uuid(),
  tenant_id: z.uuid(),
  slug: z.string(),
  name: z.string(),
  url: z.string(),
  kind: z.enum(['mcp', 'http']),
  interval_seconds: z.number().int(),
  timeout_ms: z.number().int(),
  confirm_after: z.number().int(),
  recover_after: z.number().int(),
  severity_policy: z.record(z.string(), z.string()),
  /** Header values are sealed at rest and never answered; only their names are. */
  header_names: z.array(z.string()),
  expected_status: nullable(z.number().int()),
  created_at: at,
  updated_at: at,
});

export const MonitorStatusSchema = z.looseObject({
  monitor_id: z.uuid(),
  tenant_id: z.uuid(),
  slug: z.string(),
  status: z.enum(['up', 'failing', 'down', 'maintenance', 'unknown']),
  open_incident: nullable(IncidentSchema),
  last_probe_at: nullable(at),
  /** MCP monitors: the generation probing found (`unknown` before a healthy probe); null for `kind: http`. */
  generation: nullable(z.enum(['handshake', 'stateless', 'unknown'])),
  protocol_version: nullable(z.string()),
  tools_count: nullable(z.number().int()),
});

/** A projection of the endpoint's attempt events: attempts that succeeded and failed. */
export const EndpointStatsSchema = z.looseObject({
  delivered: z.number().int(),
  failed: z.number().int(),
  success_rate: nullable(z.number()),
  last_delivery_at: nullable(at),
});

export const EndpointBreakerSchema = z.looseObject({
  state: z.enum(['closed', 'open', 'half_open']),
  consecutive_failures: z.number().int(),
  opened_at: nullable(at),
  retry_at: nullable(at),
});

export const EndpointSchema = z.looseObject({
  id: z.uuid(),
  tenant_id: z.uuid(),
  name: z.string(),
  /**
   * `webhook`, `pagerduty` (its url is PAGERDUTY_EVENTS_URL), `slack` (its url is the
   * origin of its incoming webhook) or `email` (its url is `mailto:` its recipients); a
   * routing key or Slack URL is never answered back.
   */
  type: z.enum(ENDPOINT_TYPES),
  url: z.string(),
  events: z.array(z.string()),
  severities: z.array(z.string()),
  include_recovery: z.boolean(),
  method: z.string(),
  /** Every header's name; its value masked except on creation and GET /v1/endpoints/{id}/secret. */
  headers: z.record(z.string(), z.string()),
  secret_error: nullable(z.literal('secret_unreadable')),
  retry_schedule_seconds: z.array(z.number().int()),
  timeout_ms: z.number().int(),
  status: z.enum(['active', 'paused', 'degraded', 'disabled']),
  /** Another of the tenant's endpoints that takes the P1s this one cannot deliver; null for none. */
  fallback_endpoint_id: nullable(z.uuid()),
  created_at: at,
  updated_at: at,
  stats: EndpointStatsSchema,
  breaker: EndpointBreakerSchema,
  /** The signing secret, in the create answer of a webhook endpoint only. */
  secret: z.string().optional(),
});

export const DeliverySchema = z.looseObject({
  id: z.uuid(),
  tenant_id: z.uuid(),
  endpoint_id: z.uuid(),
  event: z.string(),
  event_id: z.string(),
  dedup_key: nullable(z.string()),
  sequence: nullable(z.number().int()),
  status: z.string(),
  attempt_count: z.number().int(),
  next_attempt_at: nullable(at),
  last_http_status: nullable(z.number().int()),
  last_error: nullable(z.string()),
  /** On a P1 fallback's delivery: the delivery, on another endpoint, it stands in for. */
  fallback_of: nullable(z.uuid()),
  created_at: at,
  updated_at: at,
});

export const DeliveryAttemptSchema = z.looseObject({
  attempt: z.number().int(),
  outcome: z.enum(['succeeded', 'failed']),
  started_at: nullable(at),
  finished_at: at,
  http_status: nullable(z.number().int()),
  duration_ms: z.number().optional(),
  error_class: nullable(z.string()),
  error: nullable(z.string()),
});

export const StoredEventSchema = z.looseObject({ type: z.string(), recorded_at: at, data: z.record(z.string(), z.unknown()) });

export const DeliveryDetailSchema = DeliverySchema.extend({
  body: z.unknown(),
  attempts: z.array(DeliveryAttemptSchema),
  events: z.array(StoredEventSchema),
});

export const IncidentDetailSchema = IncidentSchema.extend({
  timeline: z.array(StoredEventSchema),
  /** True when the timeline or the deliveries were cut at their first 500. */
  truncated: z.boolean(),
  deliveries: z.array(DeliverySchema),
});

export const MaintenanceWindowSchema = z.looseObject({
  id: z.uuid(),
  tenant_id: z.uuid(),
  monitor_id: z.uuid(),
  starts_at: at,
  ends_at: at,
  reason: nullable(z.string()),
  active: z.boolean(),
  created_at: at,
});

export const SilenceSchema = z.looseObject({
  id: z.uuid(),
  tenant_id: z.uuid(),
  /** Null: every monitor of the tenant. */
  monitor_id: nullable(z.uuid()),
  /** Null: every severity. */
  severities: nullable(z.array(z.enum(['P1', 'P2', 'P3']))),
  starts_at: at,
  ends_at: at,
  comment: nullable(z.string()),
  active: z.boolean(),
  created_at: at,
});

export const SlaLedgerSchema = z.looseObject({
  tenant_id: z.uuid(),
  monitor_id: z.uuid(),
  from: at,
  to: at,
  period_seconds: z.number().int(),
  availability: z.number(),
  downtime_seconds: z.number().int(),
  maintenance_seconds: z.number().int(),
  /** The part of downtime_seconds a silence covered: still downtime, but nobody was paged. */
  silenced_seconds: z.number().int(),
  incidents: z.array(
    z.looseObject({
      dedup_key: z.string(),
      status: z.string(),
      severity: z.string(),
      started_at: at,
      resolved_at: nullable(at),
      downtime_seconds: z.number().int(),
      silenced_seconds: z.number().int(),
    }),
  ),
});

export const TenantSettingsSchema = z.looseObject({
  tenant_id: z.uuid(),
  severity_policy: z.record(z.string(), z.string()),
  inhibit_by_host: z.boolean(),
  updated_at: nullable(at),
});

export const ProbeResultsAcceptedSchema = z.looseObject({
  accepted: z.number().int(),
  event_ids: z.array(z.uuid()),
  rejected: z.array(z.object({ index: z.number().int(), reason: z.string() })),
});

const receiverStatus = z.enum(['operational', 'degraded', 'down', 'maintenance']);

export const ReceiverSchema = z.looseObject({
  id: z.uuid(),
  tenant_id: z.uuid(),
  name: z.string(),
  monitor_id: nullable(z.uuid()),
  status_field: z.string(),
  service_field: nullable(z.string()),
  message_field: nullable(z.string()),
  mapping: z.record(z.string(), receiverStatus),
  signature_header: z.string(),
  signed: z.boolean(),
  secret_error: nullable(z.literal('secret_unreadable')),
  token_prefix: z.string(),
  created_at: at,
  updated_at: at,
});

export const CreatedReceiverSchema = ReceiverSchema.extend({ token: z.string(), url: z.string() });

export const ReceiverCallSchema = z.looseObject({
  received_at: at,
  source_ip: nullable(z.string()),
  payload: z.unknown(),
  result: z.enum(['processed', 'ignored', 'failed', 'auth_failed']),
  reason: nullable(z.string()),
  monitor_id: nullable(z.uuid()),
  raw_status: nullable(z.string()),
  mapped_status: nullable(receiverStatus),
  previous_status: nullable(receiverStatus),
  new_status: nullable(receiverStatus),
  event_id: nullable(z.uuid()),
});

export const IncomingHookResultSchema = z.looseObject({
  result: z.enum(['processed', 'ignored']),
  raw_status: z.string(),
  mapped_status: nullable(receiverStatus),
  monitor_id: nullable(z.uuid()),
  event_id: nullable(z.uuid()),
});
export const DeliveryQueuedSchema = z.looseObject({ delivery_id: z.uuid() });
export const SecretSchema = z.looseObject({ secret: z.string(), headers: z.record(z.string(), z.string()) });
export const RotatedSecretSchema = z.looseObject({ secret: z.string(), previous_expires_at: at });
export const ReplayCountSchema = z.looseObject({ count: z.number().int(), dry_run: z.boolean() });

/** Named schemas become `components.schemas.<Name>` and the client's `components['schemas'][Name]`. */
export const NAMED_SCHEMAS = {
  Error: ErrorSchema,
  Tenant: TenantSchema,
  TenantQuotas: TenantQuotasSchema,
  IssuedKey: IssuedKeySchema,
  ApiKey: ApiKeySchema,
  Monitor: MonitorSchema,
  MonitorStatus: MonitorStatusSchema,
  Incident: IncidentSchema,
  IncidentDetail: IncidentDetailSchema,
  Endpoint: EndpointSchema,
  EndpointStats: EndpointStatsSchema,
  EndpointBreaker: EndpointBreakerSchema,
  Delivery: DeliverySchema,
  DeliveryDetail: DeliveryDetailSchema,
  ProbeResultsAccepted: ProbeResultsAcceptedSchema,
  Receiver: ReceiverSchema,
  CreatedReceiver: CreatedReceiverSchema,
  ReceiverCall: ReceiverCallSchema,
  IncomingHookResult: IncomingHookResultSchema,
  DeliveryQueued: DeliveryQueuedSchema,
  Secret: SecretSchema,
  RotatedSecret: RotatedSecretSchema,
  ReplayCount: ReplayCountSchema,
  MaintenanceWindow: MaintenanceWindowSchema,
  Silence: SilenceSchema,
  SlaLedger: SlaLedgerSchema,
  TenantSettings: TenantSettingsSchema,
} as const;

export type SchemaName = keyof typeof NAMED_SCHEMAS;
/** `Monitor` for one, `[Monitor]` for a page `{data: Monitor[], next_cursor}`. */
export type AnswerShape = SchemaName | readonly [SchemaName];

/**
 * What each route answers on success, by `METHOD /path` as the document names it. A route
 * missing here is still documented (its answer untyped); add it here when you add a route.
 */
export const ROUTE_ANSWERS: Readonly<Record<string, AnswerShape>> = {
  'POST /v1/tenants': 'Tenant',
  'GET /v1/tenants': ['Tenant'],
  'POST /v1/tenants/{id}/api-keys': 'IssuedKey',
  'PATCH /v1/tenants/{id}/quotas': 'TenantQuotas',
  'GET /v1/tenant': 'Tenant',
  'GET /v1/api-keys': ['ApiKey'],
  'POST /v1/api-keys': 'IssuedKey',
  'GET /v1/api-keys/{id}': 'ApiKey',
  'POST /v1/api-keys/{id}/rotate': 'IssuedKey',
  'POST /v1/monitors': 'Monitor',
  'GET /v1/monitors': ['Monitor'],
  'GET /v1/monitors/{id}': 'Monitor',
  'PATCH /v1/monitors/{id}': 'Monitor',
  'GET /v1/monitors/{id}/status': 'MonitorStatus',
  'POST /v1/monitors/{id}/maintenance': 'MaintenanceWindow',
  'GET /v1/monitors/{id}/maintenance': ['MaintenanceWindow'],
  'GET /v1/monitors/{id}/sla': 'SlaLedger',
  'POST /v1/silences': 'Silence',
  'GET /v1/silences': ['Silence'],
  'GET /v1/silences/{id}': 'Silence',
  'GET /v1/tenant/settings': 'TenantSettings',
  'PATCH /v1/tenant/settings': 'TenantSettings',
  'POST /v1/probe-results': 'ProbeResultsAccepted',
  'POST /v1/endpoints': 'Endpoint',
  'GET /v1/endpoints': ['Endpoint'],
  'GET /v1/endpoints/{id}': 'Endpoint',
  'PATCH /v1/endpoints/{id}': 'Endpoint',
  'GET /v1/endpoints/{id}/secret': 'Secret',
  'GET /v1/endpoints/{id}/deliveries': ['Delivery'],
  'POST /v1/endpoints/{id}/pause': 'Endpoint',
  'POST /v1/endpoints/{id}/resume': 'Endpoint',
  'POST /v1/endpoints/{id}/test': 'DeliveryQueued',
  'POST /v1/endpoints/{id}/rotate-secret': 'RotatedSecret',
  'POST /v1/endpoints/{id}/replay': 'ReplayCount',
  'GET /v1/deliveries/{id}': 'DeliveryDetail',
  'POST /v1/deliveries/{id}/redeliver': 'DeliveryQueued',
  'GET /v1/incidents': ['Incident'],
  'GET /v1/incidents/{dedupKey}': 'IncidentDetail',
  'POST /v1/receivers': 'CreatedReceiver',
  'GET /v1/receivers': ['Receiver'],
  'GET /v1/receivers/{id}': 'Receiver',
  'GET /v1/receivers/{id}/log': ['ReceiverCall'],
  'POST /v1/hooks/incoming/{token}': 'IncomingHookResult',
};

/** Query parameters beyond a page's cursor and limit, by route (lists' filters). */
export const ROUTE_QUERIES: Readonly<Record<string, Readonly<Record<string, z.ZodType>>>> = {
  'GET /v1/incidents': { status: z.enum(['open', 'resolved']) },
  'GET /v1/endpoints/{id}/deliveries': {
    status: z.enum(['pending', 'in_flight', 'retrying', 'delivered', 'failed', 'dead_lettered', 'skipped']),
  },
  'GET /v1/api-keys': { prefix: z.string().max(64) },
  'GET /v1/monitors/{id}/sla': { from: z.iso.datetime({ offset: true }), to: z.iso.datetime({ offset: true }) },
};
