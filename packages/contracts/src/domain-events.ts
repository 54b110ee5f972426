import type { FailureLayer } from './probe-result';
import type { DeliveryEventType, Severity } from './alert-event';

/**
 * Stored event types: an explicit type string and a schema version each, never a class
 * name; spread one into a NewEvent as it is. Upcasting an older version happens in the
 * event store's upcaster table only.
 */
export const MONITOR_EVENTS = {
  IncidentOpened: { type: 'IncidentOpened', schemaVersion: 1 },
  IncidentResolved: { type: 'IncidentResolved', schemaVersion: 1 },
  IncidentEscalated: { type: 'IncidentEscalated', schemaVersion: 1 },
  SchemaDriftDetected: { type: 'SchemaDriftDetected', schemaVersion: 1 },
  SloBreachWarned: { type: 'SloBreachWarned', schemaVersion: 1 },
  MaintenanceStarted: { type: 'MaintenanceStarted', schemaVersion: 1 },
  MaintenanceEnded: { type: 'MaintenanceEnded', schemaVersion: 1 },
} as const;

export const DELIVERY_EVENTS = {
  DeliveryCreated: { type: 'DeliveryCreated', schemaVersion: 1 },
  AttemptStarted: { type: 'AttemptStarted', schemaVersion: 1 },
  AttemptSucceeded: { type: 'AttemptSucceeded', schemaVersion: 1 },
  AttemptFailed: { type: 'AttemptFailed', schemaVersion: 1 },
  RetryScheduled: { type: 'RetryScheduled', schemaVersion: 1 },
  DeadLettered: { type: 'DeadLettered', schemaVersion: 1 },
  Skipped: { type: 'Skipped', schemaVersion: 1 },
  RedeliveryRequested: { type: 'RedeliveryRequested', schemaVersion: 1 },
  FallbackQueued: { type: 'FallbackQueued', schemaVersion: 1 },
} as const;

export function monitorStreamId(tenantId: string, monitorId: string): string {
  return `monitor-${tenantId}-${monitorId}`;
}

export function deliveryStreamId(deliveryId: string): string {
  return `delivery-${deliveryId}`;
}

export interface IncidentOpenedData {
  readonly incident_seq: number;
  readonly dedup_key: string;
  readonly failure_layer: FailureLayer;
  readonly severity: Severity;
  readonly started_at: string;
  readonly probe_count: number;
  readonly last_error: string | null;
  readonly server_slug: string;
  readonly server_url: string;
}

export interface IncidentResolvedData {
  readonly incident_seq: number;
  readonly dedup_key: string;
  readonly failure_layer: FailureLayer;
  readonly severity: Severity;
  readonly started_at: string;
  readonly resolved_at: string;
  readonly duration_seconds: number;
  readonly probe_count: number;
  readonly last_error: string | null;
  readonly server_slug: string;
  readonly server_url: string;
}

/** A shallower layer failed during an open incident: the same incident, a higher severity. */
export interface IncidentEscalatedData {
  readonly incident_seq: number;
  readonly dedup_key: string;
  readonly failure_layer: FailureLayer;
  readonly previous_failure_layer: FailureLayer;
  readonly severity: Severity;
  readonly previous_severity: Severity;
  readonly started_at: string;
  readonly escalated_at: string;
  readonly probe_count: number;
  readonly last_error: string | null;
  readonly server_slug: string;
  readonly server_url: string;
}

export type DriftImpact = 'breaking' | 'additive';

export interface SchemaDriftDetectedData {
  readonly dedup_key: string;
  readonly severity: Severity;
  readonly previous_hash: string;
  readonly current_hash: string;
  readonly added: readonly string[];
  readonly removed: readonly string[];
  readonly changed: readonly string[];
  /** Set when a list was cut to MAX_DRIFT_NAMES: the full counts, before the cut. */
  readonly truncated?: true;
  readonly added_count?: number;
  readonly removed_count?: number;
  readonly changed_count?: number;
  /** `breaking` (P2) when a tool was removed or a call that worked before may now fail; otherwise `additive` (P3). Absent on events before it was judged. */
  readonly impact?: DriftImpact;
  /** What makes it breaking, e.g. `search: removed`, `search.limit: now required`, `search.q: string → number`. */
  readonly breaking?: readonly string[];
  readonly detected_at: string;
  readonly server_slug: string;
  readonly server_url: string;
}

export type SloBreachLevel = 'burning' | 'exhausted';

export interface SloBreachWarnedData {
  readonly dedup_key: string;
  readonly level: SloBreachLevel;
  readonly severity: Severity;
  readonly window_start: string;
  readonly target: number;
  readonly window_days: number;
  readonly availability: number;
  readonly budget_remaining: number;
  readonly downtime_seconds: number;
  readonly warned_at: string;
  readonly server_slug: string;
  readonly server_url: string;
}

export type MaintenanceReason = 'window' | 'receiver';

export interface MaintenanceStartedData {
  readonly maintenance_seq: number;
  readonly started_at: string;
  readonly reason: MaintenanceReason;
  readonly window_id: string | null;
}

export interface MaintenanceEndedData {
  readonly maintenance_seq: number;
  readonly started_at: string;
  readonly ended_at: string;
}

export interface DeliveryCreatedData {
  readonly delivery_id: string;
  readonly tenant_id: string;
  readonly endpoint_id: string;
  readonly alert_event_id: string;
  readonly event: DeliveryEventType;
  readonly dedup_key: string;
  readonly sequence: number;
  /** Set on a P1 fallback's delivery: the delivery it stands in for. */
  readonly fallback_of?: string;
}

export type AttemptErrorClass =
  | 'http_4xx'
  | 'http_5xx'
  | 'http_408_429'
  | 'http_410'
  | 'redirect'
  | 'timeout'
  | 'connection'
  | 'ssrf_blocked'
  | 'invalid_url'
  /** The endpoint's signing secret or headers cannot be opened with the configured keys. */
  | 'secret_unreadable'
  /** The receiver answered, but what it answered could not be stored even when cleaned. */
  | 'unstorable_outcome'
  /** The mail server deferred the message (an SMTP 4xx, no answer, or no TOCSIN_SMTP_URL): retried. */
  | 'smtp_deferred'
  /** The mail server refused the message for good (an SMTP 5xx): dead-lettered. */
  | 'smtp_rejected'
  /** A tenant's Kafka cluster could not take the record now (unreachable, no leader, timed out): retried. */
  | 'kafka_unavailable'
  /** A tenant's Kafka cluster refused the record for good (no such topic, not authorised, too large): dead-lettered. */
  | 'kafka_rejected';

export interface AttemptStartedData {
  readonly attempt: number;
  readonly url: string;
}

export interface AttemptSucceededData {
  readonly attempt: number;
  readonly http_status: number;
  readonly duration_ms: number;
  readonly request_bytes: number;
  readonly response_snippet: string;
}

export interface AttemptFailedData {
  readonly attempt: number;
  readonly http_status: number | null;
  readonly duration_ms: number;
  readonly request_bytes: number;
  readonly response_snippet: string | null;
  readonly error_class: AttemptErrorClass;
  readonly error: string | null;
  readonly retriable: boolean;
}

export interface RetryScheduledData {
  readonly next_attempt: number;
  readonly due_at: string;
}

export interface DeadLetteredData {
  readonly attempts: number;
  readonly reason: string;
}

export interface SkippedData {
  readonly reason: string;
}

/** A P1 this delivery could not bring goes out by its endpoint's fallback, as its own delivery. */
export interface FallbackQueuedData {
  readonly fallback_delivery_id: string;
  readonly fallback_endpoint_id: string;
  readonly reason: string;
}

export interface RedeliveryRequestedData {
  readonly reason: 'redeliver' | 'replay';
  readonly previous_status: string;
  readonly attempts_before: number;
}

export const ENDPOINT_EVENTS = {
  EndpointDisabled: { type: 'EndpointDisabled', schemaVersion: 1 },
  EndpointPaused: { type: 'EndpointPaused', schemaVersion: 1 },
  EndpointResumed: { type: 'EndpointResumed', schemaVersion: 1 },
  EndpointSecretRotated: { type: 'EndpointSecretRotated', schemaVersion: 1 },
  EndpointDegraded: { type: 'EndpointDegraded', schemaVersion: 1 },
  EndpointRecovered: { type: 'EndpointRecovered', schemaVersion: 1 },
  BreakerOpened: { type: 'BreakerOpened', schemaVersion: 1 },
  BreakerClosed: { type: 'BreakerClosed', schemaVersion: 1 },
  ReplayRequested: { type: 'ReplayRequested', schemaVersion: 1 },
} as const;

export function endpointStreamId(endpointId: string): string {
  return `endpoint-${endpointId}`;
}

export interface EndpointDisabledData {
  readonly endpoint_id: string;
  readonly reason: string;
  readonly delivery_id: string;
}

export interface EndpointSecretRotatedData {
  readonly endpoint_id: string;
  /** When the replaced secret stops signing; the secrets themselves are never in the log. */
  readonly previous_expires_at: string;
}

export interface BreakerOpenedData {
  readonly endpoint_id: string;
  readonly consecutive_failures: number;
  readonly retry_at: string;
}

export interface ReplayRequestedData {
  readonly endpoint_id: string;
  readonly from: string;
  readonly to: string;
  readonly count: number;
}
