// The console's only way out: JSON over /v1 on the same origin, with the tenant key from
// sessionStorage, through the typed client. Optional fields in the view types are the ones
// a server may not send yet; the pages show "—" for them.

import { createTocsinClient, ok, TocsinApiError, type Schemas, type TocsinClient } from '@tocsin/client';

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

/** A refusal from /v1, with its HTTP status and the API's message. */
export { TocsinApiError as ApiError } from '@tocsin/client';

/** Called when the server refuses the key, so the app can return to sign-in. */
let onUnauthorized: () => void = () => {};
export function setUnauthorizedHandler(handler: () => void): void {
  onUnauthorized = handler;
}

const watchedFetch: typeof fetch = async (input, init) => {
  const res = await fetch(input, init);
  if (res.status === 401) onUnauthorized();
  return res;
};

/**
 * The typed /v1 client (@tocsin/client, generated from docs/openapi.json): a route or
 * parameter that changes breaks the console at compile time.
 */
export function api(key: string | null = storedKey()): TocsinClient {
  return createTocsinClient({ baseUrl: window.location.origin, ...(key ? { token: key } : {}), fetch: watchedFetch });
}

type Query = Record<string, string | number | boolean | undefined | null>;

function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

/**
 * Routes the checked-in OpenAPI document does not list yet (maintenance, SLA, receivers,
 * endpoint actions): the same client's transport, without the compile-time path check.
 */
export async function request<T>(method: string, path: string, opts: { body?: unknown; query?: Query } = {}): Promise<T> {
  const key = storedKey();
  const headers: Record<string, string> = { accept: 'application/json' };
  if (key) headers.authorization = `Bearer ${key}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await watchedFetch(withQuery(`/v1${path}`, opts.query), {
    method,
    headers,
    ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) }),
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
    const body = parsed && typeof parsed === 'object' ? (parsed as Partial<Schemas['Error']>) : {};
    throw new TocsinApiError(res.status, {
      statusCode: res.status,
      error: body.error ?? res.statusText,
      message: body.message ?? `HTTP ${res.status}`,
    });
  }
  return parsed as T;
}

export const get = <T>(path: string, query?: Query) => request<T>('GET', path, { query });
export const post = <T>(path: string, body?: unknown) => request<T>('POST', path, { body: body ?? {} });
export const del = <T>(path: string) => request<T>('DELETE', path);

interface PageQuery {
  limit?: number;
  cursor?: string | undefined;
  order?: 'asc' | 'desc';
}

// The documented routes, typed end to end. The console's view types below declare, as
// optional, the fields a newer server adds before the document names them.
export const v1 = {
  monitors: async (query: PageQuery) => (await ok(api().GET('/v1/monitors', { params: { query } }))) as Page<Monitor>,
  monitor: async (id: string) => (await ok(api().GET('/v1/monitors/{id}', { params: { path: { id } } }))) as Monitor,
  monitorStatus: async (id: string) => (await ok(api().GET('/v1/monitors/{id}/status', { params: { path: { id } } }))) as MonitorStatus,
  incidents: async (query: PageQuery & { status?: 'open' | 'resolved' | undefined }) =>
    (await ok(api().GET('/v1/incidents', { params: { query } }))) as Page<Incident>,
  incident: async (dedupKey: string) =>
    (await ok(api().GET('/v1/incidents/{dedupKey}', { params: { path: { dedupKey } } }))) as IncidentDetail,
  endpoints: async (query: PageQuery) => (await ok(api().GET('/v1/endpoints', { params: { query } }))) as Page<Endpoint>,
  endpoint: async (id: string) => (await ok(api().GET('/v1/endpoints/{id}', { params: { path: { id } } }))) as Endpoint,
  endpointDeliveries: async (id: string, query: PageQuery) =>
    (await ok(api().GET('/v1/endpoints/{id}/deliveries', { params: { path: { id }, query } }))) as Page<Delivery>,
  delivery: async (id: string) => (await ok(api().GET('/v1/deliveries/{id}', { params: { path: { id } } }))) as DeliveryDetail,
  receivers: async (query: PageQuery) => (await ok(api().GET('/v1/receivers', { params: { query } }))) as Page<Receiver>,
  receiver: async (id: string) => (await ok(api().GET('/v1/receivers/{id}', { params: { path: { id } } }))) as Receiver,
  receiverLog: async (id: string) =>
    (await ok(api().GET('/v1/receivers/{id}/log', { params: { path: { id } } }))) as Page<ReceiverLogRow>,
};

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
  failure_layer: string | null;
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
  last_ok?: boolean | null;
  last_failure_layer?: string | null;
  last_error?: string | null;
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
  duration_ms?: number | null;
  request_bytes?: number | null;
  response_snippet?: string | null;
  error_class: string | null;
  error: string | null;
}

export interface DeliveryDetail extends Delivery {
  body: unknown;
  attempts: Attempt[];
}

export interface TimelineEntry {
  type: string;
  sequence?: number;
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
  service_field?: string | null;
  token_prefix?: string;
  signed?: boolean;
  created_at?: string;
}

export interface ReceiverLogRow {
  received_at: string;
  source_ip: string | null;
  payload: unknown;
  result: string;
  reason?: string | null;
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
