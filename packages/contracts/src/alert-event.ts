import { z } from 'zod';
import { failureLayerSchema } from './probe-result';

export const ALERT_EVENT_TYPES = [
  'downtime_started',
  'downtime_resolved',
  'slo_breach_warning',
  'schema_drift_detected',
] as const;
export const WEBHOOK_EVENT_TYPES = [...ALERT_EVENT_TYPES, 'webhook.test'] as const;
export type AlertEventType = (typeof ALERT_EVENT_TYPES)[number];
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];
/**
 * Operational webhooks: news about the tenant's own delivery, sent to the webhook endpoints
 * that list them in `events` by name (`*` means every alert, not these).
 */
export const OPERATIONAL_EVENT_TYPES = ['endpoint.degraded', 'endpoint.disabled', 'endpoint.recovered', 'delivery.dead_lettered'] as const;
export type OperationalEventType = (typeof OPERATIONAL_EVENT_TYPES)[number];
/** Whatever a delivery can carry: an alert, a test message or an operational notice. */
export type DeliveryEventType = WebhookEventType | OperationalEventType;

export const SEVERITIES = ['P1', 'P2', 'P3'] as const;
export const severitySchema = z.enum(SEVERITIES);
export type Severity = z.infer<typeof severitySchema>;

export const ALERT_EVENT_SCHEMA = 'AlertEvent/1';

/** DESIGN §5 `slo` block of a slo_breach_warning. */
export const sloBlockSchema = z.object({
  target: z.number(),
  window_days: z.number(),
  availability: z.number(),
  budget_remaining: z.number(),
});
export type SloBlock = z.infer<typeof sloBlockSchema>;

/** DESIGN §5 `schema` block of a schema_drift_detected. */
export const schemaDriftBlockSchema = z.object({
  previous_hash: z.string().nullable(),
  current_hash: z.string(),
  added: z.array(z.string()),
  removed: z.array(z.string()),
  changed: z.array(z.string()),
  truncated: z.literal(true).optional(),
  added_count: z.number().int().optional(),
  removed_count: z.number().int().optional(),
  changed_count: z.number().int().optional(),
  impact: z.enum(['breaking', 'additive']).optional(),
  breaking: z.array(z.string()).optional(),
});
export type SchemaDriftBlock = z.infer<typeof schemaDriftBlockSchema>;

/** What the router publishes on tocsin.alerts.v1; the dispatcher turns it into a webhook body. */
export const alertEventSchema = z.object({
  event_id: z.uuid(),
  event: z.enum(ALERT_EVENT_TYPES),
  tenant_id: z.string().min(1),
  monitor_id: z.string().min(1),
  dedup_key: z.string().min(1),
  server_slug: z.string(),
  server_url: z.string(),
  failure_layer: failureLayerSchema.nullable(),
  severity: severitySchema,
  started_at: z.iso.datetime({ offset: true }),
  probe_count: z.number().int().nonnegative(),
  last_error: z.string().nullable(),
  sequence: z.number().int().positive(),
  occurred_at: z.iso.datetime({ offset: true }),
  resolved_at: z.iso.datetime({ offset: true }).optional(),
  duration_seconds: z.number().nonnegative().optional(),
  /** On a `downtime_started` that re-announces an open incident at a higher severity. */
  escalated_from: severitySchema.optional(),
  previous_failure_layer: failureLayerSchema.optional(),
  slo: z
    .object({
      target: z.number(),
      window_days: z.number(),
      availability: z.number(),
      budget_remaining: z.number(),
    })
    .optional(),
  schema: z
    .object({
      previous_hash: z.string(),
      current_hash: z.string(),
      added: z.array(z.string()),
      removed: z.array(z.string()),
      changed: z.array(z.string()),
      truncated: z.literal(true).optional(),
      added_count: z.number().int().optional(),
      removed_count: z.number().int().optional(),
      changed_count: z.number().int().optional(),
    })
    .optional(),
});

export type AlertEvent = z.infer<typeof alertEventSchema>;

/** DESIGN §5 outbound body. */
export interface WebhookBody {
  event: WebhookEventType;
  event_id: string;
  dedup_key: string;
  tenant_id: string;
  server_slug: string;
  server_url: string;
  failure_layer: string | null;
  severity: Severity;
  started_at: string;
  probe_count: number;
  last_error: string | null;
  dashboard_url: string;
  delivered_at: string;
  sequence: number;
  resolved_at?: string;
  duration_seconds?: number;
  escalated_from?: Severity;
  previous_failure_layer?: string;
  slo?: { target: number; window_days: number; availability: number; budget_remaining: number };
  schema?: {
    previous_hash: string;
    current_hash: string;
    added: string[];
    removed: string[];
    changed: string[];
    truncated?: true;
    added_count?: number;
    removed_count?: number;
    changed_count?: number;
    impact?: 'breaking' | 'additive';
    breaking?: string[];
  };
}
