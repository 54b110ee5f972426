// The console's only way out: JSON over /v1 on the same origin, with the tenant key from
// sessionStorage. Shapes follow the control-plane contract; optional fields are the ones a
// server may not send yet, and the pages show "—" for them.

const KEY_STORAGE = 'tocsin.apiKey';

export function storedKey(): string | null {
  return sessionStorage.getItem(KEY_STORAGE);
}

export function storeKey(key: string): void {
  sessionStorage.setItem(KEY_STORAGE, key);
}

export function forgetKey(): void {
  sessionStorage.removeItem(KEY_STORAGE);
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

type Query = Record<string, string | number | boolean | undefined | null>;

function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

/** Called when the server refuses the key, so the app can return to sign-in. */
let onUnauthorized: () => void = () => {};
export function setUnauthorizedHandler(handler: () => void): void {
  onUnauthorized = handler;
}

export async function request<T>(method: string, path: string, opts: { body?: unknown; query?: Query; key?: string } = {}): Promise<T> {
  const key = opts.key ?? storedKey();
  const headers: Record<string, string> = { accept: 'application/json' };
  if (key) headers.authorization = `Bearer ${key}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(withQuery(`/v1${path}`, opts.query), {
    method,
    headers,
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
  });
  const text = await res.text();
  let parsed: unknown = undefined;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
  }
  if (!res.ok) {
    if (res.status === 401 && !opts.key) onUnauthorized();
    const message =
      parsed && typeof parsed === 'object' && 'message' in parsed
        ? String((parsed as { message: unknown }).message)
        : `${res.status} ${res.statusText}`;
    throw new ApiError(res.status, message);
  }
  return parsed as T;
}

export const get = <T>(path: string, query?: Query) => request<T>('GET', path, { query });
export const post = <T>(path: string, body?: unknown) => request<T>('POST', path, { body: body ?? {} });
export const del = <T>(path: string) => request<T>('DELETE', path);

export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

export interface Monitor {
  id: string;
  slug: string;
  name: string;
  url: string;
  kind: 'mcp' | 'http';
  interval_seconds: number;
  created_at: string;
}

export type MonitorStatusValue = 'up' | 'failing' | 'down' | 'maintenance' | 'unknown';

export interface Incident {
  dedup_key: string;
  monitor_id: string;
  status: 'open' | 'resolved';
  severity: string;
  failure_layer: string;
  started_at: string;
  resolved_at: string | null;
  probe_count: number;
  last_error: string | null;
}

export interface ToolsDiff {
  previous_hash?: string;
  current_hash?: string;
  added?: string[];
  removed?: string[];
  changed?: string[];
}

export interface ProbeSample {
  observed_at?: string;
  ok?: boolean;
  failure_layer?: string | null;
  latency_ms?: number | null;
  error?: string | null;
  http_status?: number | null;
}

export interface MonitorStatus {
  monitor_id: string;
  slug?: string;
  status: MonitorStatusValue;
  open_incident: Incident | null;
  last_probe_at: string | null;
  last_ok: boolean | null;
  last_failure_layer: string | null;
  last_error: string | null;
  last_latency_ms?: number | null;
  latency_ms?: number | null;
  generation?: string | null;
  protocol_version?: string | null;
  tools_count?: number | null;
  tools_hash?: string | null;
  maintenance?: unknown;
  recent_results?: ProbeSample[];
  drifts?: Array<ToolsDiff & { detected_at?: string; recorded_at?: string }>;
  schema_drifts?: Array<ToolsDiff & { detected_at?: string; recorded_at?: string }>;
}

export interface MaintenanceWindow {
  id: string;
  starts_at: string;
  ends_at: string;
  reason?: string | null;
  ended_at?: string | null;
  status?: string;
}

export interface Sla {
  availability: number | null;
  downtime_seconds: number;
  maintenance_seconds: number;
  incidents: number | unknown[];
}

export interface EndpointStats {
  delivered?: number;
  failed?: number;
  total_delivered?: number;
  total_failed?: number;
  success_rate: number | null;
  last_delivery_at: string | null;
}

export interface Endpoint {
  id: string;
  name: string;
  url: string;
  events: string[];
  severities?: string[];
  status: string;
  stats?: EndpointStats;
  created_at: string;
}

export interface Delivery {
  id: string;
  endpoint_id: string;
  event: string;
  dedup_key: string;
  status: string;
  attempt_count: number;
  last_http_status: number | null;
  last_error: string | null;
  next_attempt_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface Attempt {
  attempt: number;
  outcome: 'succeeded' | 'failed';
  started_at: string | null;
  finished_at: string;
  http_status: number | null;
  duration_ms: number | null;
  request_bytes: number | null;
  response_snippet: string | null;
  error_class: string | null;
  error: string | null;
}

export interface DeliveryDetail extends Delivery {
  body: unknown;
  attempts: Attempt[];
}

export interface TimelineEntry {
  type: string;
  sequence: number;
  recorded_at: string;
  data: Record<string, unknown>;
}

export interface IncidentDetail extends Incident {
  timeline: TimelineEntry[];
  deliveries: Delivery[];
}

export interface Receiver {
  id: string;
  name: string;
  monitor_id?: string | null;
  status_field: string;
  url?: string;
  created_at?: string;
}

export interface ReceiverLogRow {
  received_at: string;
  source_ip: string | null;
  payload: unknown;
  result: string;
  raw_status: string | null;
  mapped_status: string | null;
  previous_status: string | null;
  new_status: string | null;
}

/** Totals under either spelling the API has used for them. */
export function statTotals(stats: EndpointStats | undefined) {
  return {
    delivered: stats?.delivered ?? stats?.total_delivered,
    failed: stats?.failed ?? stats?.total_failed,
  };
}
