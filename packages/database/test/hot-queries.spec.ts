/**
 * The hot queries of docs/scaling.md, checked against the real schema for what Citus,
 * distributing every tenant-owned table by `tenant_id`, could do with them.
 *
 * Citus routes a statement to one shard when every distributed table in it is pinned to
 * one tenant_id value; a batch whose rows each name their tenant goes to the shards of
 * those tenants; a statement without tenant_id on some distributed table goes to every
 * shard. No Citus is run here. The proxy is the plain Postgres plan: for every scan of a
 * table that would be distributed, the tenant_id condition must show up on that scan (an
 * Index Cond, Filter, Recheck Cond, or a join condition naming the scan's alias), and an
 * insert into one must supply tenant_id and conflict only on keys that include it.
 *
 * The lists below are the inventory docs/scaling.md prints, each entry with the SQL as it
 * runs. `verbatim` entries must appear word for word (up to whitespace) in their source
 * file, so the copy cannot drift from the code. TypeORM-built entries are the text TypeORM
 * 0.3 emits for that builder (captured from its query log).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Client } from 'pg';
import { prepareDatabase } from '../src';

// ---------------------------------------------------------------------------------------
// Where each table goes on Citus
// ---------------------------------------------------------------------------------------

/** Distributed by tenant_id, in one co-location group. */
export const DISTRIBUTED_TABLES = [
  'deliveries',
  'endpoint_stats',
  'endpoints',
  'events',
  'host_outages',
  'incidents',
  'maintenance_periods',
  'maintenance_windows',
  'monitor_state',
  'monitors',
  'probe_leases',
  'receiver_calls',
  'receiver_statuses',
  'receivers',
  'silences',
  'tenant_settings',
] as const;

/**
 * Replicated to every node: small, rarely written, and read before the tenant is known
 * (an API key is looked up by its hash to learn its tenant).
 */
export const REFERENCE_TABLES = ['api_keys', 'tenants'] as const;

/**
 * No tenant at all: Kafka bookkeeping and the migrations log. They stay ordinary tables on
 * the coordinator (Citus local tables), not reference tables: they are written on every
 * batch, and a reference-table write goes to every node.
 */
export const COORDINATOR_TABLES = ['consumer_offsets', 'migrations', 'outbox', 'processed_messages'] as const;

/** Distributed tables that have no tenant_id column today: it has to be added (and filled). */
export const TABLES_WITHOUT_TENANT_ID = ['events', 'probe_leases', 'receiver_statuses'] as const;

/** tenant_id typed text where the rest use uuid: Citus co-locates only columns of one type. */
export const TEXT_TENANT_ID_TABLES = ['incidents', 'maintenance_periods', 'monitor_state'] as const;

/**
 * Primary keys and unique indexes of distributed tables that lack tenant_id. Citus refuses
 * them: uniqueness can only be checked on one shard, so each must be widened to include it.
 */
export const UNIQUE_INDEXES_TO_WIDEN = [
  'deliveries_pkey',
  'endpoint_stats_pkey',
  'endpoints_pkey',
  'events_event_id_key',
  'events_pkey',
  'events_stream_id_stream_version_key',
  'incidents_pkey',
  'maintenance_windows_pkey',
  'monitors_pkey',
  'probe_leases_pkey',
  'receiver_calls_pkey',
  'receiver_statuses_pkey',
  'receivers_pkey',
  'receivers_token_hash_key',
] as const;

/** Foreign keys between distributed tables that do not include tenant_id on both sides. */
export const FOREIGN_KEYS_TO_WIDEN = [
  'maintenance_windows.maintenance_windows_monitor_id_fkey',
  'probe_leases.probe_leases_monitor_id_fkey',
  'receiver_calls.receiver_calls_receiver_id_fkey',
  'receiver_statuses.receiver_statuses_receiver_id_fkey',
  'receivers.receivers_monitor_id_fkey',
] as const;

type DistributedTable = (typeof DISTRIBUTED_TABLES)[number];

// ---------------------------------------------------------------------------------------
// The hot queries
// ---------------------------------------------------------------------------------------

/** The rows the plans are taken against: two tenants, each with a little of everything. */
export interface Fixture {
  readonly tenantA: string;
  readonly tenantB: string;
  readonly monitorA: string;
  readonly monitorB: string;
  readonly endpointA: string;
  readonly endpointB: string;
  readonly deliveryA: string;
  readonly deliveryB: string;
  readonly dedupKeyA: string;
  readonly dedupKeyB: string;
}

interface QueryBase {
  /** Stable name, also used in docs/scaling.md. */
  readonly id: string;
  /** Repository-relative file the statement lives in. */
  readonly source: string;
  /** Class and method (or function) that runs it. */
  readonly fn: string;
  /** The statement, as it runs. */
  readonly sql: string;
  /**
   * `verbatim`: `sql` (or `sourceText`, when the code splices part of it) appears in
   * `source`. `typeorm`: the code builds it with TypeORM; `sql` is what TypeORM emits.
   */
  readonly origin: 'verbatim' | 'typeorm';
  /** The statement as written in the code, where it differs from `sql` by a splice. */
  readonly sourceText?: string;
  readonly params: (f: Fixture) => unknown[];
}

/** Pinned to one tenant: `tenantParam` (1-based) is the tenant every distributed table is filtered by. */
export interface SingleShardQuery extends QueryBase {
  readonly tenantParam: number;
}

/** A batch: each row names its tenant, so it touches the shards of the batch's tenants, each co-located. */
export type TenantKeyedQuery = QueryBase;

/** Reads or writes only coordinator-local or reference tables: one node, no shard. */
export type NodeLocalQuery = QueryBase;

/** Touches distributed tables without pinning a tenant: every shard, by design or for want of tenant_id. */
export interface MultiShardQuery extends QueryBase {
  /** The distributed tables the statement reaches without a tenant_id condition, sorted. */
  readonly unscoped: readonly DistributedTable[];
  /** `cross-tenant`: inherently so. `missing-tenant-id`: tenant-scoped work whose SQL (or table) lacks tenant_id. */
  readonly why: 'cross-tenant' | 'missing-tenant-id';
}

const INCIDENT_COLUMNS = (a: string) =>
  ['dedup_key', 'tenant_id', 'monitor_id', 'incident_seq', 'status', 'severity', 'failure_layer', 'started_at', 'resolved_at', 'probe_count', 'last_error', 'escalated_at']
    .map((c) => `"${a}"."${c}" AS "${a}_${c}"`)
    .join(', ');
const DELIVERY_COLUMNS = (a: string) =>
  ['id', 'tenant_id', 'endpoint_id', 'alert_event_id', 'event_type', 'dedup_key', 'sequence', 'body', 'status', 'attempts', 'schedule_offset', 'next_attempt_at', 'lease_until', 'last_http_status', 'last_error', 'stream_version', 'created_at', 'updated_at']
    .map((c) => `"${a}"."${c}" AS "${a}_${c}"`)
    .join(', ');
const MONITOR_COLUMNS = (a: string) =>
  ['id', 'tenant_id', 'slug', 'name', 'url', 'kind', 'interval_seconds', 'timeout_ms', 'confirm_after', 'recover_after', 'severity_policy', 'headers', 'sealed_headers', 'header_names', 'expected_status', 'mcp_generation', 'protocol_version', 'tools_count', 'slo', 'created_at', 'updated_at']
    .map((c) => `"${a}"."${c}" AS "${a}_${c}"`)
    .join(', ');
const MONITOR_STATE_COLUMNS = (a: string) =>
  ['tenant_id', 'monitor_id', 'stream_version', 'state', 'last_probe_at', 'updated_at'].map((c) => `"${a}"."${c}" AS "${a}_${c}"`).join(', ');
const WINDOW_COLUMNS = (a: string) =>
  ['id', 'tenant_id', 'monitor_id', 'starts_at', 'ends_at', 'reason', 'created_at'].map((c) => `"${a}"."${c}" AS "${a}_${c}"`).join(', ');
const RECEIVER_COLUMNS = (a: string) =>
  ['id', 'tenant_id', 'name', 'monitor_id', 'status_field', 'service_field', 'message_field', 'mapping', 'secret', 'signature_header', 'token_hash', 'token_prefix', 'created_at', 'updated_at']
    .map((c) => `"${a}"."${c}" AS "${a}_${c}"`)
    .join(', ');

const CURSOR_AT = '2030-01-01T00:00:00.000Z';
const NOW = () => new Date('2030-01-01T00:00:00.000Z');

/** API reads, each confined to the request's tenant by TenantScope (apps/api/src/tenants/tenant-scope.ts). */
export const SINGLE_SHARD_QUERIES: readonly SingleShardQuery[] = [
  {
    id: 'api.incidents.list',
    source: 'apps/api/src/incidents/incidents.controller.ts',
    fn: 'IncidentsController.list (with ?status and a cursor, newest first)',
    origin: 'typeorm',
    sql: `SELECT ${INCIDENT_COLUMNS('i')} FROM "incidents" "i" WHERE "i"."tenant_id" = $1 AND "i"."status" = $2 AND (date_trunc('milliseconds', "i"."started_at" AT TIME ZONE 'UTC'), "i"."dedup_key") < (($3::timestamptz AT TIME ZONE 'UTC'), $4) ORDER BY date_trunc('milliseconds', "i"."started_at" AT TIME ZONE 'UTC') DESC, "i"."dedup_key" DESC LIMIT 51`,
    tenantParam: 1,
    params: (f) => [f.tenantA, 'open', CURSOR_AT, 'tcs_z'],
  },
  {
    id: 'api.incidents.get',
    source: 'apps/api/src/incidents/incidents.controller.ts',
    fn: 'IncidentsController.get (the incident)',
    origin: 'typeorm',
    sql: `SELECT ${INCIDENT_COLUMNS('IncidentEntity')} FROM "incidents" "IncidentEntity" WHERE (("IncidentEntity"."dedup_key" = $1) AND ("IncidentEntity"."tenant_id" = $2)) LIMIT 1`,
    tenantParam: 2,
    params: (f) => [f.dedupKeyA, f.tenantA],
  },
  {
    id: 'api.incidents.deliveries',
    source: 'apps/api/src/incidents/incidents.controller.ts',
    fn: 'IncidentsController.get (the deliveries it caused)',
    origin: 'typeorm',
    sql: `SELECT ${DELIVERY_COLUMNS('DeliveryEntity')} FROM "deliveries" "DeliveryEntity" WHERE (("DeliveryEntity"."dedup_key" = $1) AND ("DeliveryEntity"."tenant_id" = $2)) ORDER BY "DeliveryEntity"."created_at" ASC LIMIT 501`,
    tenantParam: 2,
    params: (f) => [f.dedupKeyA, f.tenantA],
  },
  {
    id: 'api.deliveries.get',
    source: 'apps/api/src/deliveries/deliveries.controller.ts',
    fn: 'DeliveriesController.get (the row)',
    origin: 'typeorm',
    sql: `SELECT ${DELIVERY_COLUMNS('DeliveryEntity')} FROM "deliveries" "DeliveryEntity" WHERE (("DeliveryEntity"."id" = $1) AND ("DeliveryEntity"."tenant_id" = $2)) LIMIT 1`,
    tenantParam: 2,
    params: (f) => [f.deliveryA, f.tenantA],
  },
  {
    id: 'api.endpoints.deliveries',
    source: 'apps/api/src/endpoints/endpoint.repository.ts',
    fn: 'EndpointRepository.deliveries (with ?status and a cursor, newest first)',
    origin: 'typeorm',
    sql: `SELECT ${DELIVERY_COLUMNS('d')} FROM "deliveries" "d" WHERE "d"."tenant_id" = $1 AND "d"."endpoint_id" = $2 AND "d"."status" = $3 AND (date_trunc('milliseconds', "d"."created_at" AT TIME ZONE 'UTC'), "d"."id") < (($4::timestamptz AT TIME ZONE 'UTC'), $5) ORDER BY date_trunc('milliseconds', "d"."created_at" AT TIME ZONE 'UTC') DESC, "d"."id" DESC LIMIT 51`,
    tenantParam: 1,
    params: (f) => [f.tenantA, f.endpointA, 'delivered', CURSOR_AT, f.deliveryA],
  },
  {
    id: 'api.endpoints.health',
    source: 'apps/api/src/endpoints/endpoint.repository.ts',
    fn: 'EndpointRepository.health',
    origin: 'verbatim',
    sql: 'SELECT * FROM endpoint_stats WHERE tenant_id = $1 AND endpoint_id = ANY($2::uuid[])',
    tenantParam: 1,
    params: (f) => [f.tenantA, [f.endpointA]],
  },
  {
    id: 'api.endpoints.deliveries-in-range',
    source: 'apps/api/src/endpoints/endpoint.repository.ts',
    fn: 'EndpointRepository.deliveriesInRange (replay)',
    origin: 'verbatim',
    sql: `SELECT id FROM deliveries
       WHERE tenant_id = $1 AND endpoint_id = $2 AND status = ANY($3::text[]) AND created_at >= $4 AND created_at < $5
       ORDER BY created_at, id
       LIMIT $6`,
    tenantParam: 1,
    params: (f) => [f.tenantA, f.endpointA, ['dead_lettered', 'failed'], '2020-01-01T00:00:00Z', CURSOR_AT, 1001],
  },
  {
    id: 'api.monitors.list',
    source: 'apps/api/src/monitors/monitor.repository.ts',
    fn: 'MonitorRepository.list (with a cursor, newest first)',
    origin: 'typeorm',
    sql: `SELECT ${MONITOR_COLUMNS('m')} FROM "monitors" "m" WHERE "m"."tenant_id" = $1 AND (date_trunc('milliseconds', "m"."created_at" AT TIME ZONE 'UTC'), "m"."id") < (($2::timestamptz AT TIME ZONE 'UTC'), $3) ORDER BY date_trunc('milliseconds', "m"."created_at" AT TIME ZONE 'UTC') DESC, "m"."id" DESC LIMIT 51`,
    tenantParam: 1,
    params: (f) => [f.tenantA, CURSOR_AT, f.monitorA],
  },
  {
    id: 'api.monitors.find',
    source: 'apps/api/src/monitors/monitor.repository.ts',
    fn: 'MonitorRepository.find (each GET /v1/monitors/:id/status starts here)',
    origin: 'typeorm',
    sql: `SELECT ${MONITOR_COLUMNS('MonitorEntity')} FROM "monitors" "MonitorEntity" WHERE (("MonitorEntity"."id" = $1) AND ("MonitorEntity"."tenant_id" = $2)) LIMIT 1`,
    tenantParam: 2,
    params: (f) => [f.monitorA, f.tenantA],
  },
  {
    id: 'api.monitors.state',
    source: 'apps/api/src/monitors/monitor.repository.ts',
    fn: 'MonitorRepository.state',
    origin: 'typeorm',
    sql: `SELECT ${MONITOR_STATE_COLUMNS('MonitorStateEntity')} FROM "monitor_state" "MonitorStateEntity" WHERE (("MonitorStateEntity"."monitor_id" = $1) AND ("MonitorStateEntity"."tenant_id" = $2)) LIMIT 1`,
    tenantParam: 2,
    params: (f) => [f.monitorA, f.tenantA],
  },
  {
    id: 'api.monitors.open-incident',
    source: 'apps/api/src/monitors/monitor.repository.ts',
    fn: 'MonitorRepository.openIncident',
    origin: 'typeorm',
    sql: `SELECT ${INCIDENT_COLUMNS('IncidentEntity')} FROM "incidents" "IncidentEntity" WHERE (("IncidentEntity"."monitor_id" = $1) AND ("IncidentEntity"."status" = $2) AND ("IncidentEntity"."tenant_id" = $3)) LIMIT 1`,
    tenantParam: 3,
    params: (f) => [f.monitorA, 'open', f.tenantA],
  },
  {
    id: 'api.monitors.active-maintenance',
    source: 'apps/api/src/monitors/monitor.repository.ts',
    fn: 'MonitorRepository.activeMaintenance',
    origin: 'typeorm',
    sql: `SELECT ${WINDOW_COLUMNS('w')} FROM "maintenance_windows" "w" WHERE "w"."tenant_id" = $1 AND "w"."monitor_id" = $2 AND "w"."starts_at" <= now() AND "w"."ends_at" > now() ORDER BY "w"."ends_at" DESC`,
    tenantParam: 1,
    params: (f) => [f.tenantA, f.monitorA],
  },
  {
    id: 'api.probe-results.monitors',
    source: 'apps/api/src/probe-results/probe-results.controller.ts',
    fn: 'ProbeResultsController (POST /v1/probe-results: one monitor lookup per pushed batch)',
    origin: 'verbatim',
    sql: 'SELECT id, slug FROM monitors WHERE tenant_id = $1 AND (id::text = ANY($2) OR slug = ANY($2))',
    tenantParam: 1,
    params: (f) => [f.tenantA, ['a-1', f.monitorA]],
  },
];

/** Batches of many tenants in one statement, each row with its tenant_id. */
export const TENANT_KEYED_QUERIES: readonly TenantKeyedQuery[] = [
  {
    id: 'router.save-snapshots',
    source: 'apps/severity-router/src/monitors/monitor.repository.ts',
    fn: 'MonitorRepository.saveSnapshots',
    origin: 'verbatim',
    sql: `INSERT INTO monitor_state (tenant_id, monitor_id, stream_version, state, last_probe_at, updated_at)
       SELECT t, m, v, s, p, now() FROM jsonb_to_recordset($1::jsonb) AS x(t text, m text, v int, s jsonb, p timestamptz)
       ON CONFLICT (tenant_id, monitor_id)
       DO UPDATE SET stream_version = EXCLUDED.stream_version, state = EXCLUDED.state,
                     last_probe_at = EXCLUDED.last_probe_at, updated_at = now()`,
    params: (f) => [JSON.stringify([{ t: f.tenantA, m: f.monitorA, v: 2, s: {}, p: CURSOR_AT }])],
  },
  {
    id: 'dispatcher.fan-out.endpoints',
    source: 'apps/dispatcher/src/deliveries/commands/fan-out-alerts.handler.ts',
    fn: 'FanOutAlertsHandler.execute (the endpoints of the batch’s tenants)',
    origin: 'verbatim',
    sql: 'SELECT * FROM endpoints WHERE tenant_id = ANY($1::uuid[]) ORDER BY created_at',
    params: (f) => [[f.tenantA, f.tenantB]],
  },
];

/** Coordinator-local and reference tables only. */
export const NODE_LOCAL_QUERIES: readonly NodeLocalQuery[] = [
  {
    id: 'api.auth.api-key',
    source: 'apps/api/src/auth/guards.ts',
    fn: 'TenantGuard (every API request: the key’s tenant)',
    origin: 'verbatim',
    sql: 'SELECT id, tenant_id, revoked_at IS NOT NULL AS revoked FROM api_keys WHERE key_hash = $1',
    params: () => ['hash-a'],
  },
  {
    id: 'consumers.offset-lock',
    source: 'packages/event-store/src/consumer-offsets.ts',
    fn: 'freshRecords (router and dispatcher fan-out, once per partition batch)',
    origin: 'verbatim',
    sql: `SELECT next_offset FROM consumer_offsets
     WHERE consumer_group = $1 AND cluster_id = $2 AND topic = $3 AND partition = $4 FOR UPDATE`,
    params: () => ['tocsin.severity-router', 'cluster', 'tocsin.probe-results.v1', 0],
  },
  {
    id: 'consumers.offset-store',
    source: 'packages/event-store/src/consumer-offsets.ts',
    fn: 'storeOffset (once per partition batch)',
    origin: 'verbatim',
    sql: `INSERT INTO consumer_offsets (consumer_group, cluster_id, topic, partition, next_offset) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (consumer_group, cluster_id, topic, partition)
     DO UPDATE SET next_offset = GREATEST(consumer_offsets.next_offset, EXCLUDED.next_offset), updated_at = now()`,
    sourceText: `INSERT INTO consumer_offsets (consumer_group, cluster_id, topic, partition, next_offset) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (consumer_group, cluster_id, topic, partition)
     DO UPDATE SET next_offset = \${next}, updated_at = now()`,
    params: () => ['tocsin.severity-router', 'cluster', 'tocsin.probe-results.v1', 0, '42'],
  },
  {
    id: 'router.enqueue-outbox',
    source: 'packages/event-store/src/outbox.ts',
    fn: 'enqueueOutbox (alerts and DLQ copies, once per router batch)',
    origin: 'verbatim',
    sql: `INSERT INTO outbox (topic, key, value, value_raw, headers)
     SELECT topic, key, value, value_raw, headers
       FROM unnest($1::text[], $2::text[], $3::text[], $4::bytea[], $5::jsonb[]) WITH ORDINALITY
       AS m(topic, key, value, value_raw, headers, n) ORDER BY n`,
    params: (f) => [['tocsin.alerts.v1'], [`${f.tenantA}:${f.monitorA}`], ['{}'], [null], ['{}']],
  },
  {
    id: 'router.relay.select',
    source: 'packages/event-store/src/outbox.ts',
    fn: 'relayOutboxBatch (the unpublished rows, under the relay’s advisory lock)',
    origin: 'verbatim',
    sql: 'SELECT id, topic, key, value, value_raw, headers FROM outbox WHERE published_at IS NULL ORDER BY id LIMIT $1',
    params: () => [1000],
  },
  {
    id: 'router.relay.mark',
    source: 'packages/event-store/src/outbox.ts',
    fn: 'relayOutboxBatch (marks them published)',
    origin: 'verbatim',
    sql: 'UPDATE outbox SET published_at = clock_timestamp() WHERE id = ANY($1::bigint[])',
    params: () => [['1', '2']],
  },
  {
    id: 'dispatcher.fan-out.mark-processed',
    source: 'packages/event-store/src/consumer-offsets.ts',
    fn: 'markProcessedMany (alert ids, once per fan-out batch)',
    origin: 'verbatim',
    sql: `INSERT INTO processed_messages (consumer_group, event_id)
     SELECT $1, id FROM unnest($2::uuid[]) AS id
     ON CONFLICT DO NOTHING RETURNING event_id`,
    params: (f) => ['tocsin.dispatcher', [f.deliveryA]],
  },
];

/** Every shard: the cross-tenant work, and the tenant-scoped work that does not say its tenant. */
export const MULTI_SHARD_QUERIES: readonly MultiShardQuery[] = [
  // --- Inherently cross-tenant: work queues and sweeps over everyone's rows.
  {
    id: 'dispatcher.claim',
    source: 'apps/dispatcher/src/deliveries/delivery.repository.ts',
    fn: 'DeliveryRepository.claimDue (under the claim advisory lock)',
    origin: 'verbatim',
    sql: `WITH RECURSIVE busy AS (
         (SELECT endpoint_id FROM deliveries WHERE status IN ('pending', 'retrying') ORDER BY endpoint_id LIMIT 1)
         UNION ALL
         SELECT (SELECT d.endpoint_id FROM deliveries d
                 WHERE d.status IN ('pending', 'retrying') AND d.endpoint_id > busy.endpoint_id
                 ORDER BY d.endpoint_id LIMIT 1)
         FROM busy WHERE busy.endpoint_id IS NOT NULL
       ), slots AS (
         SELECT b.endpoint_id,
                CASE WHEN s.breaker_state = 'open' AND s.breaker_retry_at > now() THEN 0
                     WHEN s.breaker_state = 'open' THEN 1
                     ELSE $2::int END
                - (SELECT count(*) FROM deliveries f
                   WHERE f.status = 'in_flight' AND f.endpoint_id = b.endpoint_id AND f.lease_until >= now())::int AS free,
                ceil($1::float8 / count(*) OVER ())::int AS share
         FROM busy b LEFT JOIN endpoint_stats s ON s.endpoint_id = b.endpoint_id
         WHERE b.endpoint_id IS NOT NULL
       ), due AS (
         SELECT c.* FROM slots, LATERAL (
           SELECT d.id, d.tenant_id, d.endpoint_id, d.next_attempt_at, d.sequence
           FROM deliveries d
           WHERE d.endpoint_id = slots.endpoint_id AND d.status IN ('pending', 'retrying') AND d.next_attempt_at <= now()
             AND NOT EXISTS (SELECT 1 FROM deliveries o
                             WHERE o.endpoint_id = d.endpoint_id AND o.dedup_key = d.dedup_key AND o.sequence < d.sequence
                               AND o.status IN ('pending', 'retrying', 'in_flight'))
           ORDER BY d.next_attempt_at, d.sequence
           LIMIT GREATEST(LEAST(slots.free, slots.share), 0)
         ) c
       ), turns AS (
         SELECT id, tenant_id, next_attempt_at,
                row_number() OVER (PARTITION BY endpoint_id ORDER BY next_attempt_at, sequence) AS endpoint_turn
         FROM due
       ), ranked AS (
         SELECT id, next_attempt_at, tenant_turn FROM (
           SELECT t.id, t.next_attempt_at, coalesce(l.n, 0) AS load,
                  row_number() OVER (PARTITION BY t.tenant_id ORDER BY t.endpoint_turn, t.next_attempt_at) AS tenant_turn
           FROM turns t LEFT JOIN unnest($5::uuid[], $6::int[]) AS l(tenant_id, n) ON l.tenant_id = t.tenant_id
         ) r
         WHERE r.tenant_turn <= $4::int - r.load
         ORDER BY tenant_turn, next_attempt_at
         LIMIT $1
       ), picked AS (
         -- By primary key alone: joining, or a status test the queue's partial index can
         -- answer, tempts the planner to read every queued row (a BitmapAnd with that index).
         SELECT d.id FROM deliveries d
         WHERE d.id = ANY (ARRAY(SELECT id FROM ranked)) AND (d.status || '') IN ('pending', 'retrying')
         FOR UPDATE OF d SKIP LOCKED
       )
       UPDATE deliveries d
       SET status = 'in_flight', attempts = d.attempts + 1, stream_version = d.stream_version + 1,
           lease_until = now() + make_interval(
             secs => (coalesce((SELECT e.timeout_ms FROM endpoints e WHERE e.id = d.endpoint_id), 30000) / 1000.0 + $3)::float8),
           updated_at = clock_timestamp()
       FROM picked
       WHERE d.id = picked.id
       RETURNING d.id, d.tenant_id, d.endpoint_id, d.alert_event_id, d.event_type, d.dedup_key, d.body, d.attempts,
                 d.schedule_offset, d.stream_version, d.traceparent, d.sequence, d.fallback_of`,
    unscoped: ['deliveries', 'endpoint_stats', 'endpoints'],
    why: 'cross-tenant',
    params: (f) => [100, 4, 5, 64, [f.tenantA], [1]],
  },
  {
    id: 'dispatcher.reap-leases',
    source: 'apps/dispatcher/src/deliveries/delivery.repository.ts',
    fn: 'DeliveryRepository.reapExpiredLeases (every 2 s)',
    origin: 'verbatim',
    sql: `UPDATE deliveries d
         SET lease_expiries = d.lease_expiries + 1,
             status = CASE WHEN d.lease_expiries + 1 >= $1 THEN 'dead_lettered' ELSE 'retrying' END,
             next_attempt_at = CASE WHEN d.lease_expiries + 1 >= $1 THEN NULL
                                    ELSE now() + make_interval(secs => $2 * power(4, d.lease_expiries)) END,
             last_error = CASE WHEN d.lease_expiries + 1 >= $1 THEN $3 ELSE d.last_error END,
             stream_version = d.stream_version + CASE WHEN d.lease_expiries + 1 >= $1 THEN 1 ELSE 0 END,
             lease_until = NULL, updated_at = clock_timestamp()
         WHERE d.status = 'in_flight' AND d.lease_until < now()
         RETURNING d.id, d.tenant_id, d.endpoint_id, d.event_type, d.dedup_key, d.alert_event_id, d.traceparent, d.attempts,
                   d.stream_version, d.status = 'dead_lettered' AS dead`,
    unscoped: ['deliveries'],
    why: 'cross-tenant',
    params: () => [3, 5, 'lease_expired_repeatedly'],
  },
  {
    id: 'dispatcher.purge-finished',
    source: 'apps/dispatcher/src/deliveries/delivery.repository.ts',
    fn: 'DeliveryRepository.purgeFinished (every 10 min)',
    origin: 'verbatim',
    sql: `DELETE FROM deliveries WHERE id IN (
         SELECT id FROM deliveries
         WHERE status IN ('delivered', 'dead_lettered', 'skipped', 'failed') AND updated_at < now() - make_interval(days => $1)
         LIMIT $2)`,
    unscoped: ['deliveries'],
    why: 'cross-tenant',
    params: () => [30, 10000],
  },
  {
    id: 'probe.claim',
    source: 'apps/probe-ingest/src/scheduling/probe-lease.repository.ts',
    fn: 'ProbeLeaseRepository.claimDue (every 200 ms and after each probe)',
    origin: 'verbatim',
    sql: `
      WITH due AS (
        SELECT monitor_id, next_due_at FROM probe_leases
        WHERE next_due_at <= now() AND (lease_until IS NULL OR lease_until < now())
        ORDER BY next_due_at
        LIMIT $2
        FOR UPDATE SKIP LOCKED
      ), claimed AS (
        UPDATE probe_leases l
        SET owner = $1, lease_until = now() + (m.timeout_ms + $3::integer) * interval '1 millisecond'
        FROM due, monitors m
        WHERE l.monitor_id = due.monitor_id AND m.id = l.monitor_id
        RETURNING l.monitor_id, due.next_due_at AS due_at
      )
      SELECT m.*, claimed.due_at FROM claimed JOIN monitors m ON m.id = claimed.monitor_id`,
    unscoped: ['monitors', 'probe_leases'],
    why: 'cross-tenant',
    params: () => ['replica-1', 128, 5000],
  },
  {
    id: 'probe.schedule-new',
    source: 'apps/probe-ingest/src/scheduling/probe-lease.repository.ts',
    fn: 'ProbeLeaseRepository.scheduleNewMonitors (every TOCSIN_MONITOR_REFRESH_MS)',
    origin: 'verbatim',
    sql: `
      INSERT INTO probe_leases (monitor_id, next_due_at)
      SELECT m.id, now() FROM monitors m
      WHERE NOT EXISTS (SELECT 1 FROM probe_leases l WHERE l.monitor_id = m.id)
      ON CONFLICT (monitor_id) DO NOTHING
      RETURNING monitor_id`,
    unscoped: ['monitors', 'probe_leases'],
    why: 'cross-tenant',
    params: () => [],
  },
  {
    id: 'api.auth.receiver-token',
    source: 'apps/api/src/receivers/receiver.repository.ts',
    fn: 'ReceiverRepository.findByTokenHash (every inbound hook call: the token names the receiver, and so its tenant)',
    origin: 'typeorm',
    sql: `SELECT ${RECEIVER_COLUMNS('ReceiverEntity')} FROM "receivers" "ReceiverEntity" WHERE (("ReceiverEntity"."token_hash" = $1)) LIMIT 1`,
    unscoped: ['receivers'],
    why: 'cross-tenant',
    params: () => ['token-hash-a'],
  },

  // --- Tenant-scoped work whose SQL or table lacks tenant_id today.
  {
    id: 'router.load-monitors',
    source: 'apps/severity-router/src/monitors/monitor.repository.ts',
    fn: 'MonitorRepository.loadMany (once per router batch)',
    origin: 'verbatim',
    sql: `WITH wanted AS (
         SELECT m.* FROM json_to_recordset($1::json) AS r(t uuid, r uuid) JOIN monitors m ON m.id = r.r AND m.tenant_id = r.t
         UNION
         SELECT m.* FROM json_to_recordset($2::json) AS r(t uuid, r text) JOIN monitors m ON m.tenant_id = r.t AND m.slug = r.r
       )
       SELECT w.id, w.tenant_id, w.slug, w.url, w.confirm_after, w.recover_after, w.severity_policy, w.slo,
              ts.severity_policy AS tenant_policy, s.state, mw.windows
       FROM wanted w
       LEFT JOIN tenant_settings ts ON ts.tenant_id = w.tenant_id
       LEFT JOIN LATERAL (
         SELECT st.state FROM monitor_state st WHERE st.tenant_id = w.tenant_id::text AND st.monitor_id = w.id::text FOR UPDATE
       ) s ON true
       LEFT JOIN LATERAL (
         SELECT json_agg(json_build_object('id', x.id, 'starts_at', x.starts_at, 'ends_at', x.ends_at) ORDER BY x.starts_at) AS windows
         FROM maintenance_windows x WHERE x.monitor_id = w.id
       ) mw ON true`,
    // The maintenance windows are joined by monitor_id alone.
    unscoped: ['maintenance_windows'],
    why: 'missing-tenant-id',
    params: (f) => [JSON.stringify([{ t: f.tenantA, r: f.monitorA }, { t: f.tenantB, r: f.monitorB }]), JSON.stringify([{ t: f.tenantA, r: 'a-1' }])],
  },
  {
    id: 'router.append-events',
    source: 'packages/event-store/src/event-store.ts',
    fn: 'EventStore.appendMany (once per router batch with events)',
    origin: 'verbatim',
    sql: `INSERT INTO events (event_id, stream_id, stream_version, type, schema_version, data, metadata)
       SELECT * FROM unnest($1::uuid[], $2::text[], $3::int[], $4::text[], $5::int[], $6::jsonb[], $7::jsonb[])
       ON CONFLICT DO NOTHING
       RETURNING *`,
    unscoped: ['events'],
    why: 'missing-tenant-id',
    params: (f) => [[f.deliveryA], [`monitor-${f.tenantA}-${f.monitorA}`], [9], ['ProbeRecorded'], [1], ['{}'], [JSON.stringify({ tenant_id: f.tenantA })]],
  },
  {
    id: 'router.project-incidents.insert',
    source: 'apps/severity-router/src/projections/monitor.projections.ts',
    fn: 'projectMonitorEvents (incidents opened in the batch)',
    origin: 'verbatim',
    sql: `INSERT INTO incidents (dedup_key, tenant_id, monitor_id, incident_seq, status, severity, failure_layer, started_at, probe_count, last_error)
       SELECT dedup_key, tenant_id, monitor_id, incident_seq, status, severity, failure_layer, started_at, probe_count, last_error
       FROM jsonb_to_recordset($1::jsonb) AS x(dedup_key text, tenant_id text, monitor_id text, incident_seq int, status text,
         severity text, failure_layer text, started_at timestamptz, probe_count int, last_error text)
       ON CONFLICT (dedup_key) DO NOTHING`,
    // Conflicts on the dedup key alone.
    unscoped: ['incidents'],
    why: 'missing-tenant-id',
    params: () => ['[]'],
  },
  {
    id: 'router.project-incidents.update',
    source: 'apps/severity-router/src/projections/monitor.projections.ts',
    fn: 'projectMonitorEvents (incidents escalated or resolved in the batch)',
    origin: 'verbatim',
    sql: `UPDATE incidents i SET
         status = coalesce(x.status, i.status), severity = coalesce(x.severity, i.severity),
         failure_layer = coalesce(x.failure_layer, i.failure_layer), resolved_at = coalesce(x.resolved_at, i.resolved_at),
         escalated_at = coalesce(x.escalated_at, i.escalated_at), probe_count = coalesce(x.probe_count, i.probe_count),
         last_error = x.last_error
       FROM jsonb_to_recordset($1::jsonb) AS x(dedup_key text, status text, severity text, failure_layer text,
         resolved_at timestamptz, escalated_at timestamptz, probe_count int, last_error text)
       WHERE i.dedup_key = x.dedup_key`,
    unscoped: ['incidents'],
    why: 'missing-tenant-id',
    params: (f) => [JSON.stringify([{ dedup_key: f.dedupKeyA, status: 'resolved' }])],
  },
  {
    id: 'dispatcher.fan-out.enqueue',
    source: 'packages/delivery-queue/src/enqueue.ts',
    fn: 'enqueueDeliveries (once per fan-out batch)',
    origin: 'verbatim',
    sql: `INSERT INTO deliveries (id, tenant_id, endpoint_id, alert_event_id, event_type, dedup_key, sequence, body, status,
                             next_attempt_at, stream_version, traceparent, fallback_of)
     SELECT id, tenant_id, endpoint_id, alert_event_id, event_type, dedup_key, sequence, $2::jsonb -> b,
            CASE WHEN skipped THEN 'skipped' ELSE 'pending' END,
            CASE WHEN skipped THEN NULL ELSE clock_timestamp() END,
            v, traceparent, fallback_of
     FROM jsonb_to_recordset($1::jsonb)
          AS t(id uuid, tenant_id uuid, endpoint_id uuid, alert_event_id uuid, event_type text, dedup_key text, sequence int,
               b int, skipped bool, v int, traceparent text, fallback_of uuid)
     ON CONFLICT (id) DO NOTHING
     RETURNING id`,
    // Conflicts on the delivery id alone.
    unscoped: ['deliveries'],
    why: 'missing-tenant-id',
    params: () => ['[]', '[]'],
  },
  {
    id: 'delivery-queue.append-streams',
    source: 'packages/delivery-queue/src/stream-writes.ts',
    fn: 'appendToStreams (delivery and endpoint events: fan-out, claim, outcomes)',
    origin: 'verbatim',
    sql: `INSERT INTO events (event_id, stream_id, stream_version, type, schema_version, data, metadata)
     SELECT coalesce(i, gen_random_uuid()), s, v, t, sv, d, $2::jsonb -> m
     FROM jsonb_to_recordset($1::jsonb) AS x(i uuid, s text, v int, t text, sv int, d jsonb, m int)
     ON CONFLICT (stream_id, stream_version) DO NOTHING
     RETURNING position`,
    unscoped: ['events'],
    why: 'missing-tenant-id',
    params: () => ['[]', '[]'],
  },
  {
    id: 'dispatcher.claim.endpoints',
    source: 'apps/dispatcher/src/deliveries/delivery.repository.ts',
    fn: 'DeliveryRepository.endpoints (the claimed deliveries’ endpoints)',
    origin: 'verbatim',
    sql: 'SELECT * FROM endpoints WHERE id = ANY($1::uuid[])',
    unscoped: ['endpoints'],
    why: 'missing-tenant-id',
    params: (f) => [[f.endpointA, f.endpointB]],
  },
  {
    id: 'dispatcher.claim.finals',
    source: 'apps/dispatcher/src/deliveries/delivery.repository.ts',
    fn: 'DeliveryRepository.recordClaimed (claimed deliveries that will not be attempted)',
    origin: 'verbatim',
    sql: `UPDATE deliveries d SET status = u.status, last_error = u.last_error, lease_until = NULL, next_attempt_at = NULL,
              stream_version = d.stream_version + u.more, updated_at = clock_timestamp()
       FROM unnest($1::uuid[], $2::text[], $3::text[], $4::int[]) AS u(id, status, last_error, more)
       WHERE d.id = u.id`,
    unscoped: ['deliveries'],
    why: 'missing-tenant-id',
    params: (f) => [[f.deliveryA], ['skipped'], ['endpoint paused'], [0]],
  },
  {
    id: 'dispatcher.outcome.record',
    source: 'apps/dispatcher/src/deliveries/delivery.repository.ts',
    fn: 'DeliveryRepository.record (each flush of attempt outcomes)',
    origin: 'verbatim',
    sql: `UPDATE deliveries d
       SET status = u.status, next_attempt_at = u.next_attempt_at, last_http_status = u.last_http_status,
           last_error = u.last_error, lease_until = NULL, stream_version = u.expected + u.added,
           updated_at = clock_timestamp()
       FROM unnest($1::uuid[], $2::int[], $3::int[], $4::text[], $5::timestamptz[], $6::int[], $7::text[])
            AS u(id, expected, added, status, next_attempt_at, last_http_status, last_error)
       WHERE d.id = u.id AND d.stream_version = u.expected
       RETURNING d.id`,
    unscoped: ['deliveries'],
    why: 'missing-tenant-id',
    params: (f) => [[f.deliveryA, f.deliveryB], [2, 2], [1, 1], ['delivered', 'delivered'], [null, null], [200, 200], [null, null]],
  },
  {
    id: 'dispatcher.health.load',
    source: 'apps/dispatcher/src/endpoints/endpoint-health.recorder.ts',
    fn: 'EndpointHealthRecorder (each flush: the endpoints’ rows, locked, and their stats)',
    origin: 'verbatim',
    sql: `SELECT e.id, e.tenant_id, e.status, s.delivered, s.failed, s.last_delivery_at, s.last_attempt_at, s.recent_outcomes,
              s.breaker_state, s.breaker_failures, s.breaker_opened_at, s.breaker_retry_at, s.breaker_opens
       FROM endpoints e LEFT JOIN endpoint_stats s ON s.endpoint_id = e.id
       WHERE e.id = ANY($1::uuid[]) ORDER BY e.id FOR UPDATE OF e`,
    unscoped: ['endpoint_stats', 'endpoints'],
    why: 'missing-tenant-id',
    params: (f) => [[f.endpointA, f.endpointB]],
  },
  {
    id: 'dispatcher.health.save',
    source: 'apps/dispatcher/src/endpoints/endpoint-health.recorder.ts',
    fn: 'EndpointHealthRecorder.saveStates (each flush)',
    origin: 'verbatim',
    sql: `INSERT INTO endpoint_stats (endpoint_id, tenant_id, delivered, failed, last_delivery_at, last_attempt_at, recent_outcomes,
                                   breaker_state, breaker_failures, breaker_opened_at, breaker_retry_at, breaker_opens)
       SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::bigint[], $4::bigint[], $5::timestamptz[], $6::timestamptz[], $7::text[],
                            $8::text[], $9::int[], $10::timestamptz[], $11::timestamptz[], $12::int[])
       ON CONFLICT (endpoint_id) DO UPDATE SET
         delivered = EXCLUDED.delivered, failed = EXCLUDED.failed, last_delivery_at = EXCLUDED.last_delivery_at,
         last_attempt_at = EXCLUDED.last_attempt_at, recent_outcomes = EXCLUDED.recent_outcomes,
         breaker_state = EXCLUDED.breaker_state, breaker_failures = EXCLUDED.breaker_failures,
         breaker_opened_at = EXCLUDED.breaker_opened_at, breaker_retry_at = EXCLUDED.breaker_retry_at,
         breaker_opens = EXCLUDED.breaker_opens`,
    // Conflicts on the endpoint id alone.
    unscoped: ['endpoint_stats'],
    why: 'missing-tenant-id',
    params: (f) => [[f.endpointA], [f.tenantA], [1], [0], [null], [null], ['s'], ['closed'], [0], [null], [null], [0]],
  },
  {
    id: 'probe.complete',
    source: 'apps/probe-ingest/src/scheduling/probe-lease.repository.ts',
    fn: 'ProbeLeaseRepository.complete (after every probe)',
    origin: 'verbatim',
    sql: `UPDATE probe_leases SET next_due_at = $3, owner = NULL, lease_until = NULL
       WHERE monitor_id = $2 AND owner = $1`,
    unscoped: ['probe_leases'],
    why: 'missing-tenant-id',
    params: (f) => ['replica-1', f.monitorA, NOW()],
  },
  {
    id: 'probe.learn',
    source: 'apps/probe-ingest/src/scheduling/probe-lease.repository.ts',
    fn: 'ProbeLeaseRepository.learn (after an MCP probe that learned something)',
    origin: 'verbatim',
    sql: `UPDATE monitors SET mcp_generation = $2, protocol_version = $3, tools_count = $4
       WHERE id = $1 AND (mcp_generation IS DISTINCT FROM $2 OR protocol_version IS DISTINCT FROM $3
         OR tools_count IS DISTINCT FROM $4)`,
    unscoped: ['monitors'],
    why: 'missing-tenant-id',
    params: (f) => [f.monitorA, 'stateless', '2026-07-28', 3],
  },
  {
    id: 'api.incidents.timeline',
    source: 'packages/event-store/src/event-store.ts',
    fn: 'EventStore.readStreamByDedupKey (GET /v1/incidents/:key)',
    origin: 'verbatim',
    sql: `SELECT * FROM events WHERE stream_id = $1 AND data ? 'dedup_key' AND data->>'dedup_key' = $2 ORDER BY stream_version LIMIT $3`,
    unscoped: ['events'],
    why: 'missing-tenant-id',
    params: (f) => [`monitor-${f.tenantA}-${f.monitorA}`, f.dedupKeyA, 501],
  },
  {
    id: 'api.deliveries.events',
    source: 'packages/event-store/src/event-store.ts',
    fn: 'EventStore.readStream (GET /v1/deliveries/:id)',
    origin: 'verbatim',
    sql: 'SELECT * FROM events WHERE stream_id = $1 ORDER BY stream_version',
    unscoped: ['events'],
    why: 'missing-tenant-id',
    params: (f) => [`delivery-${f.deliveryA}`],
  },
];

/**
 * Statements that lock rows (FOR UPDATE, SKIP LOCKED) but are not pinned to one tenant.
 * Citus runs SELECT … FOR UPDATE only when it is routed to one shard (citusdata/citus#4647),
 * so each of these must become per-tenant or per-shard, or stop locking.
 */
export const MULTI_SHARD_ROW_LOCKS = ['dispatcher.claim', 'dispatcher.health.load', 'probe.claim', 'router.load-monitors'] as const;

/**
 * Statements that UPDATE a distributed table and call a VOLATILE function in it (all of them
 * `clock_timestamp()` for updated_at or a lease). Citus refuses these even on one shard
 * (citusdata/citus#4795): the value must come from a parameter, `now()`, or a CTE run first.
 */
export const VOLATILE_DISTRIBUTED_UPDATES = ['dispatcher.claim', 'dispatcher.claim.finals', 'dispatcher.outcome.record', 'dispatcher.reap-leases'] as const;

export const HOT_QUERIES: readonly QueryBase[] = [...SINGLE_SHARD_QUERIES, ...TENANT_KEYED_QUERIES, ...NODE_LOCAL_QUERIES, ...MULTI_SHARD_QUERIES];

// ---------------------------------------------------------------------------------------
// Reading plans
// ---------------------------------------------------------------------------------------

/** The fields of an EXPLAIN (FORMAT JSON, VERBOSE) node this test reads. */
interface PlanNode {
  readonly 'Node Type': string;
  readonly 'Relation Name'?: string;
  readonly Alias?: string;
  readonly Operation?: 'Insert' | 'Update' | 'Delete' | 'Merge';
  readonly 'Index Cond'?: string;
  readonly 'Recheck Cond'?: string;
  readonly Filter?: string;
  readonly 'TID Cond'?: string;
  readonly 'Join Filter'?: string;
  readonly 'Hash Cond'?: string;
  readonly 'Merge Cond'?: string;
  readonly 'Conflict Arbiter Indexes'?: readonly string[];
  readonly Plans?: readonly PlanNode[];
}

/** One read of a table in a plan, with every condition that restricts it. */
interface Scan {
  readonly table: string;
  readonly alias: string;
  readonly conditions: readonly string[];
}

/** One insert into a table, with the unique indexes it arbitrates conflicts on (none named: all). */
interface Insert {
  readonly table: string;
  readonly arbiters: readonly string[] | undefined;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** `alias.` as EXPLAIN VERBOSE prints it (a mixed-case alias quoted), not the tail of a longer name (`d` in `od.`). */
const qualifier = (alias: string) => `"?(?<![\\w.])${escape(alias)}"?\\.`;

/** `alias.tenant_id`, perhaps parenthesised and cast. */
const tenantColumn = (alias: string) => `\\(?${qualifier(alias)}tenant_id\\b\\)?(?:::\\w+)?`;

/** `alias.tenant_id` compared for equality (to a value, a column, or ANY of an array), either way round. */
function tenantCondition(alias: string): RegExp {
  const column = tenantColumn(alias);
  return new RegExp(`${column}\\s*=|=\\s*(?:ANY\\s*\\()?\\(?${column}`);
}

/** `alias.tenant_id = '<tenant>'`, either way round: the scan is pinned to that tenant. */
function pinnedTo(alias: string, tenant: string): RegExp {
  const column = tenantColumn(alias);
  const value = `'${escape(tenant)}'(?:::\\w+)?`;
  return new RegExp(`${column}\\s*=\\s*${value}|${value}\\s*=\\s*${column}`);
}

const JOIN_CONDITIONS = ['Join Filter', 'Hash Cond', 'Merge Cond'] as const;
const SCAN_CONDITIONS = ['Index Cond', 'Recheck Cond', 'Filter', 'TID Cond'] as const;

/** The Index Conds of a bitmap scan's index side (Bitmap Index Scan, BitmapAnd, BitmapOr). */
function bitmapConditions(node: PlanNode): string[] {
  const own = node['Index Cond'] ? [node['Index Cond']] : [];
  return [...own, ...(node.Plans ?? []).flatMap(bitmapConditions)];
}

function readPlan(root: PlanNode): { scans: Scan[]; inserts: Insert[] } {
  const scans: Scan[] = [];
  const inserts: Insert[] = [];
  const walk = (node: PlanNode, joinConditions: readonly string[]): void => {
    const table = node['Relation Name'];
    if (node['Node Type'] === 'ModifyTable') {
      if (node.Operation === 'Insert' && table) inserts.push({ table, arbiters: node['Conflict Arbiter Indexes'] });
    } else if (table) {
      const alias = node.Alias ?? table;
      const own = SCAN_CONDITIONS.flatMap((k) => (node[k] ? [node[k]] : []));
      const bitmap = node['Node Type'] === 'Bitmap Heap Scan' ? (node.Plans ?? []).flatMap(bitmapConditions) : [];
      // A hash or merge join states its condition on the join node, not on the scans it
      // joins: credit it to the scan whose alias it names.
      const joined = joinConditions.filter((c) => new RegExp(qualifier(alias)).test(c));
      scans.push({ table, alias, conditions: [...own, ...bitmap, ...joined] });
      if (node['Node Type'] === 'Bitmap Heap Scan') return;
    }
    const here = JOIN_CONDITIONS.flatMap((k) => (node[k] ? [node[k]] : []));
    for (const child of node.Plans ?? []) walk(child, [...joinConditions, ...here]);
  };
  walk(root, []);
  return { scans, inserts };
}

const DISTRIBUTED: ReadonlySet<string> = new Set(DISTRIBUTED_TABLES);
const normalise = (sql: string) => sql.replace(/\s+/g, ' ').trim();
const repoRoot = resolve(__dirname, '../../..');

// ---------------------------------------------------------------------------------------
// The test
// ---------------------------------------------------------------------------------------

const base = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/tocsin';

function databaseUrl(name: string): string {
  const url = new URL(base);
  url.pathname = `/${name}`;
  return url.toString();
}

const uuid = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

const FIXTURE: Fixture = {
  tenantA: uuid(0xa),
  tenantB: uuid(0xb),
  monitorA: uuid(0xa1),
  monitorB: uuid(0xb1),
  endpointA: uuid(0xa2),
  endpointB: uuid(0xb2),
  deliveryA: uuid(0xa3),
  deliveryB: uuid(0xb3),
  dedupKeyA: 'tcs_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
  dedupKeyB: 'tcs_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb',
};

/** A little of everything for both tenants, so every statement has rows of each to choose among. */
async function seed(client: Client, f: Fixture): Promise<void> {
  for (const [tenant, suffix, monitor, endpoint, delivery, dedupKey] of [
    [f.tenantA, 'a', f.monitorA, f.endpointA, f.deliveryA, f.dedupKeyA],
    [f.tenantB, 'b', f.monitorB, f.endpointB, f.deliveryB, f.dedupKeyB],
  ] as const) {
    await client.query('INSERT INTO tenants (id, name) VALUES ($1, $2)', [tenant, `tenant ${suffix}`]);
    await client.query('INSERT INTO tenant_settings (tenant_id) VALUES ($1)', [tenant]);
    await client.query('INSERT INTO api_keys (id, tenant_id, key_hash, prefix) VALUES (gen_random_uuid(), $1, $2, $3)', [tenant, `hash-${suffix}`, suffix]);
    await client.query(
      `INSERT INTO monitors (id, tenant_id, slug, name, url, kind, interval_seconds, timeout_ms, confirm_after, recover_after)
       VALUES ($1, $2, $3, $3, 'https://example.com/mcp', 'mcp', 60, 5000, 3, 2)`,
      [monitor, tenant, `${suffix}-1`],
    );
    await client.query(`INSERT INTO probe_leases (monitor_id, next_due_at) VALUES ($1, now())`, [monitor]);
    await client.query(`INSERT INTO monitor_state (tenant_id, monitor_id, stream_version, state) VALUES ($1, $2, 1, '{}')`, [tenant, monitor]);
    await client.query(
      `INSERT INTO maintenance_windows (id, tenant_id, monitor_id, starts_at, ends_at) VALUES (gen_random_uuid(), $1, $2, now(), now() + interval '1 hour')`,
      [tenant, monitor],
    );
    await client.query(
      `INSERT INTO incidents (dedup_key, tenant_id, monitor_id, incident_seq, status, severity, failure_layer, started_at, probe_count)
       VALUES ($1, $2, $3, 1, 'open', 'critical', 'transport', now(), 3)`,
      [dedupKey, tenant, monitor],
    );
    await client.query(
      `INSERT INTO endpoints (id, tenant_id, name, url, events, severities, include_recovery, method, secret, retry_schedule_seconds, timeout_ms, status)
       VALUES ($1, $2, 'hook', 'https://example.com/hook', '[]', '[]', true, 'POST', 'sealed', '[1]', 5000, 'active')`,
      [endpoint, tenant],
    );
    await client.query('INSERT INTO endpoint_stats (endpoint_id, tenant_id) VALUES ($1, $2)', [endpoint, tenant]);
    // One delivery by a known id, and more in every status so the queue's partial indexes have rows.
    await client.query(
      `INSERT INTO deliveries (id, tenant_id, endpoint_id, alert_event_id, event_type, dedup_key, sequence, body, status, next_attempt_at, lease_until, stream_version)
       SELECT CASE WHEN n = 0 THEN $1::uuid ELSE gen_random_uuid() END, $2, $3, gen_random_uuid(), 'downtime_started', $4, n, '{}',
              (ARRAY['delivered', 'pending', 'retrying', 'in_flight', 'dead_lettered'])[n % 5 + 1],
              now(), now() + interval '30 seconds', 1
       FROM generate_series(0, 19) AS n`,
      [delivery, tenant, endpoint, dedupKey],
    );
    await client.query(
      `INSERT INTO events (event_id, stream_id, stream_version, type, schema_version, data, metadata)
       VALUES (gen_random_uuid(), $1, 1, 'IncidentOpened', 1, jsonb_build_object('dedup_key', $2::text), jsonb_build_object('tenant_id', $3::text)),
              (gen_random_uuid(), $4, 1, 'DeliveryCreated', 1, '{}', jsonb_build_object('tenant_id', $3::text))`,
      [`monitor-${tenant}-${monitor}`, dedupKey, tenant, `delivery-${delivery}`],
    );
    await client.query(
      `INSERT INTO receivers (id, tenant_id, name, monitor_id, status_field, token_hash, token_prefix) VALUES (gen_random_uuid(), $1, 'r', $2, 'status', $3, $4)`,
      [tenant, monitor, `token-hash-${suffix}`, suffix],
    );
  }
  await client.query(`INSERT INTO outbox (topic, key, value, headers) VALUES ('tocsin.alerts.v1', 'k', '{}', '{}')`);
  await client.query(`INSERT INTO consumer_offsets (consumer_group, cluster_id, topic, partition, next_offset) VALUES ('tocsin.severity-router', 'cluster', 'tocsin.probe-results.v1', 0, 1)`);
  await client.query('ANALYZE');
}

interface Findings {
  /** Distributed tables the statement reaches without a tenant_id condition (or, for an insert, without tenant_id in its keys). */
  readonly unscoped: string[];
  /** Distributed tables whose tenant_id condition does not name the tenant the statement is for. */
  readonly unpinned: string[];
  /** Every distributed table the statement reads or writes. */
  readonly distributed: string[];
}

describe('hot queries under Citus distribution by tenant_id', () => {
  const name = `tocsin_test_${randomBytes(5).toString('hex')}`;
  // Not @tocsin/testing's createTestDatabase: that package depends on this one. The same
  // steps as migrations.spec.ts instead: prepareDatabase creates the database and migrates.
  const url = databaseUrl(name);
  const client = new Client({ connectionString: url });
  /** Unique index name → its columns. */
  const uniqueIndexes = new Map<string, { table: string; columns: string[] }>();

  beforeAll(async () => {
    await prepareDatabase(url);
    await client.connect();
    await seed(client, FIXTURE);
    const { rows } = await client.query<{ index: string; table: string; columns: string[] }>(
      `SELECT i.relname AS index, t.relname AS table,
              array(SELECT a.attname FROM unnest(x.indkey) k JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k)::text[] AS columns
       FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
       JOIN pg_namespace n ON n.oid = t.relnamespace
       WHERE n.nspname = 'public' AND x.indisunique`,
    );
    for (const r of rows) uniqueIndexes.set(r.index, { table: r.table, columns: r.columns });
  });

  afterAll(async () => {
    await client.end();
    const admin = new Client({ connectionString: databaseUrl('postgres') });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.end();
  });

  async function explain(sql: string, params: unknown[]): Promise<PlanNode> {
    await client.query('BEGIN');
    try {
      // The tables hold a few rows each, so the planner would read them whole and apply
      // every condition as one Filter at best, or as a hash join's condition at worst; with
      // sequential scans priced out it picks the index paths it takes at production sizes,
      // and each condition shows up on the scan it restricts. Local to this transaction.
      await client.query('SET LOCAL enable_seqscan = off');
      const { rows } = await client.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(`EXPLAIN (FORMAT JSON, VERBOSE) ${sql}`, params);
      const plan = rows[0]?.['QUERY PLAN'][0]?.Plan;
      if (!plan) throw new Error('EXPLAIN returned no plan');
      return plan;
    } finally {
      await client.query('ROLLBACK');
    }
  }

  /** What Citus would make of the statement, read from its plan; `tenant` is the tenant a single-tenant statement is for. */
  async function findings(query: QueryBase, tenant?: string): Promise<Findings> {
    const { scans, inserts } = readPlan(await explain(query.sql, query.params(FIXTURE)));
    const unscoped = new Set<string>();
    const unpinned = new Set<string>();
    const distributed = new Set<string>();
    for (const scan of scans) {
      if (!DISTRIBUTED.has(scan.table)) continue;
      distributed.add(scan.table);
      if (!scan.conditions.some((c) => tenantCondition(scan.alias).test(c))) unscoped.add(scan.table);
      else if (tenant !== undefined && !scan.conditions.some((c) => pinnedTo(scan.alias, tenant).test(c))) unpinned.add(scan.table);
    }
    for (const insert of inserts) {
      if (!DISTRIBUTED.has(insert.table)) continue;
      distributed.add(insert.table);
      const columns = new RegExp(`INSERT INTO ${insert.table} \\(([^)]*)\\)`).exec(normalise(query.sql))?.[1] ?? '';
      // ON CONFLICT without a target arbitrates on every unique index of the table.
      const arbiters = insert.arbiters ?? [...uniqueIndexes].filter(([, i]) => i.table === insert.table).map(([n]) => n);
      const keyed = arbiters.every((a) => uniqueIndexes.get(a)?.columns.includes('tenant_id'));
      if (!/\btenant_id\b/.test(columns) || !keyed) unscoped.add(insert.table);
    }
    return { unscoped: [...unscoped].sort(), unpinned: [...unpinned].sort(), distributed: [...distributed].sort() };
  }

  describe('the schema', () => {
    const tables = async () =>
      (await client.query<{ table: string; tenant_type: string | null }>(
        `SELECT c.relname AS table, format_type(a.atttypid, a.atttypmod) AS tenant_type
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
         WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY c.relname`,
      )).rows;

    it('places every table: distributed, reference or coordinator, exactly once', async () => {
      const placed = [...DISTRIBUTED_TABLES, ...REFERENCE_TABLES, ...COORDINATOR_TABLES].sort();
      expect(new Set(placed).size).toBe(placed.length);
      // A new table fails here until docs/scaling.md and this list say where it goes.
      expect((await tables()).map((t) => t.table)).toEqual(placed);
    });

    it('names the distributed tables that have no tenant_id, and those whose tenant_id is text', async () => {
      const distributed = (await tables()).filter((t) => DISTRIBUTED.has(t.table));
      expect(distributed.filter((t) => t.tenant_type === null).map((t) => t.table)).toEqual([...TABLES_WITHOUT_TENANT_ID]);
      expect(distributed.filter((t) => t.tenant_type === 'text').map((t) => t.table)).toEqual([...TEXT_TENANT_ID_TABLES]);
      const others = distributed.filter((t) => t.tenant_type !== null && t.tenant_type !== 'text');
      expect(new Set(others.map((t) => t.tenant_type))).toEqual(new Set(['uuid']));
    });

    it('names every primary key and unique index of a distributed table that lacks tenant_id', () => {
      const lacking = [...uniqueIndexes]
        .filter(([, i]) => DISTRIBUTED.has(i.table) && !i.columns.includes('tenant_id'))
        .map(([index]) => index)
        .sort();
      expect(lacking).toEqual([...UNIQUE_INDEXES_TO_WIDEN]);
    });

    it('names every foreign key between distributed tables that does not carry tenant_id on both sides', async () => {
      const { rows } = await client.query<{ name: string; child: string; parent: string; child_columns: string[]; parent_columns: string[] }>(
        `SELECT c.conname AS name, ch.relname AS child, pa.relname AS parent,
                array(SELECT a.attname FROM unnest(c.conkey) k JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k)::text[] AS child_columns,
                array(SELECT a.attname FROM unnest(c.confkey) k JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k)::text[] AS parent_columns
         FROM pg_constraint c JOIN pg_class ch ON ch.oid = c.conrelid JOIN pg_class pa ON pa.oid = c.confrelid
         WHERE c.contype = 'f'`,
      );
      const lacking = rows
        .filter((r) => DISTRIBUTED.has(r.child) && DISTRIBUTED.has(r.parent))
        .filter((r) => !r.child_columns.includes('tenant_id') || !r.parent_columns.includes('tenant_id'))
        .map((r) => `${r.child}.${r.name}`)
        .sort();
      expect(lacking).toEqual([...FOREIGN_KEYS_TO_WIDEN]);
    });
  });

  describe('the query lists', () => {
    it('give every query a unique id, and docs/scaling.md lists each one', () => {
      const ids = HOT_QUERIES.map((q) => q.id);
      expect(new Set(ids).size).toBe(ids.length);
      const doc = readFileSync(resolve(repoRoot, 'docs/scaling.md'), 'utf8');
      expect(ids.filter((id) => !doc.includes(`\`${id}\``))).toEqual([]);
    });

    it.each(HOT_QUERIES.filter((q) => q.origin === 'verbatim').map((q) => [q.id, q] as const))(
      '%s is the statement in its source file, word for word',
      (_id, query) => {
        const source = normalise(readFileSync(resolve(repoRoot, query.source), 'utf8'));
        expect(source).toContain(normalise(query.sourceText ?? query.sql));
      },
    );

    it.each(HOT_QUERIES.filter((q) => q.origin === 'typeorm').map((q) => [q.id, q] as const))('%s names a function its source file has', (_id, query) => {
      const method = /^\w+\.(\w+)/.exec(query.fn)?.[1] ?? /^(\w+)/.exec(query.fn)?.[1];
      expect(method).toBeDefined();
      expect(readFileSync(resolve(repoRoot, query.source), 'utf8')).toContain(`${method}(`);
    });
  });

  describe('Citus restrictions besides tenant_id', () => {
    it('the row locks outside one tenant are the known set', () => {
      const single = new Set(SINGLE_SHARD_QUERIES.map((q) => q.id));
      const locking = HOT_QUERIES.filter((q) => !single.has(q.id) && /\bFOR UPDATE\b/i.test(q.sql))
        // A lock on a coordinator-local table (the consumer offset) is an ordinary Postgres lock.
        .filter((q) => !NODE_LOCAL_QUERIES.includes(q))
        .map((q) => q.id)
        .sort();
      expect(locking).toEqual([...MULTI_SHARD_ROW_LOCKS]);
    });

    it('the updates of distributed tables that call a VOLATILE function are the known set', async () => {
      const updates = HOT_QUERIES.filter((q) => DISTRIBUTED_TABLES.some((t) => new RegExp(`\\bUPDATE ${t}\\b`).test(q.sql)));
      const called = (sql: string) => [...new Set([...sql.matchAll(/\b([a-z_][a-z0-9_]*)\s*\(/gi)].map((m) => m[1]!.toLowerCase()))];
      const { rows } = await client.query<{ proname: string }>(
        `SELECT DISTINCT proname FROM pg_proc WHERE provolatile = 'v' AND prokind = 'f' AND proname = ANY($1::text[])`,
        [[...new Set(updates.flatMap((q) => called(q.sql)))]],
      );
      const volatile = new Set(rows.map((r) => r.proname));
      const found = updates.filter((q) => called(q.sql).some((f) => volatile.has(f))).map((q) => q.id).sort();
      expect(found).toEqual([...VOLATILE_DISTRIBUTED_UPDATES]);
    });
  });

  describe('single-shard: every distributed table pinned to the one tenant', () => {
    it.each(SINGLE_SHARD_QUERIES.map((q) => [q.id, q] as const))('%s', async (_id, query) => {
      const tenant = query.params(FIXTURE)[query.tenantParam - 1];
      expect(typeof tenant).toBe('string');
      const found = await findings(query, tenant as string);
      expect(found.distributed.length).toBeGreaterThan(0);
      expect({ unscoped: found.unscoped, unpinned: found.unpinned }).toEqual({ unscoped: [], unpinned: [] });
    });

    // The check can fail: with its tenant predicate taken out (the parameter kept in use, so
    // the statement still plans), every single-shard query must be reported.
    it.each(SINGLE_SHARD_QUERIES.map((q) => [q.id, q] as const))('%s without its tenant_id predicate is caught', async (_id, query) => {
      const predicate = new RegExp(`(?:"?\\w+"?\\.)?"?tenant_id"? = \\$${query.tenantParam}(?!\\d)`, 'g');
      expect(query.sql).toMatch(predicate);
      const mutant = { ...query, sql: query.sql.replace(predicate, `$${query.tenantParam}::text IS NOT NULL`) };
      const found = await findings(mutant, query.params(FIXTURE)[query.tenantParam - 1] as string);
      expect(found.unscoped.length + found.unpinned.length).toBeGreaterThan(0);
    });
  });

  describe('tenant-keyed batches: every distributed table joined on the row’s tenant_id', () => {
    it.each(TENANT_KEYED_QUERIES.map((q) => [q.id, q] as const))('%s', async (_id, query) => {
      const found = await findings(query);
      expect(found.distributed.length).toBeGreaterThan(0);
      expect(found.unscoped).toEqual([]);
    });
  });

  describe('node-local: no distributed table at all', () => {
    it.each(NODE_LOCAL_QUERIES.map((q) => [q.id, q] as const))('%s', async (_id, query) => {
      expect((await findings(query)).distributed).toEqual([]);
    });
  });

  describe('multi-shard: the known set, and exactly the tables each reaches without tenant_id', () => {
    // A query that gains tenant_id everywhere fails here on purpose: move it to the
    // single-shard or tenant-keyed list (and docs/scaling.md with it).
    it.each(MULTI_SHARD_QUERIES.map((q) => [q.id, q] as const))('%s', async (_id, query) => {
      const found = await findings(query);
      expect(found.unscoped).toEqual([...query.unscoped]);
    });
  });
});
