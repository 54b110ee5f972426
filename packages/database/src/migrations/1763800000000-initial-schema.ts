import type { MigrationInterface, QueryRunner } from 'typeorm';

export class InitialSchema1763800000000 implements MigrationInterface {
  name = 'InitialSchema1763800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE tenants (
        id uuid PRIMARY KEY,
        name text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE api_keys (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        key_hash text NOT NULL UNIQUE,
        prefix text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE monitors (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        slug text NOT NULL,
        name text NOT NULL,
        url text NOT NULL,
        kind text NOT NULL,
        interval_seconds integer NOT NULL,
        timeout_ms integer NOT NULL,
        confirm_after integer NOT NULL,
        recover_after integer NOT NULL,
        severity_policy jsonb NOT NULL DEFAULT '{}',
        headers jsonb NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (tenant_id, slug)
      );
      CREATE TABLE endpoints (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        name text NOT NULL,
        url text NOT NULL,
        events jsonb NOT NULL,
        severities jsonb NOT NULL,
        include_recovery boolean NOT NULL,
        method text NOT NULL,
        headers jsonb NOT NULL DEFAULT '{}',
        secret text NOT NULL,
        retry_schedule_seconds jsonb NOT NULL,
        timeout_ms integer NOT NULL,
        status text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX endpoints_tenant ON endpoints (tenant_id);

      CREATE TABLE events (
        position bigserial PRIMARY KEY,
        event_id uuid NOT NULL UNIQUE,
        stream_id text NOT NULL,
        stream_version integer NOT NULL,
        type text NOT NULL,
        schema_version integer NOT NULL,
        data jsonb NOT NULL,
        metadata jsonb NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        UNIQUE (stream_id, stream_version)
      );
      CREATE TABLE outbox (
        id bigserial PRIMARY KEY,
        topic text NOT NULL,
        key text NOT NULL,
        value text NOT NULL,
        headers jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        published_at timestamptz
      );
      CREATE INDEX outbox_unpublished ON outbox (id) WHERE published_at IS NULL;
      CREATE TABLE consumer_offsets (
        consumer_group text NOT NULL,
        topic text NOT NULL,
        partition integer NOT NULL,
        next_offset bigint NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (consumer_group, topic, partition)
      );
      CREATE TABLE processed_messages (
        consumer_group text NOT NULL,
        event_id uuid NOT NULL,
        processed_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (consumer_group, event_id)
      );

      CREATE TABLE monitor_state (
        tenant_id text NOT NULL,
        monitor_id text NOT NULL,
        stream_version integer NOT NULL,
        state jsonb NOT NULL,
        last_probe_at timestamptz,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, monitor_id)
      );
      CREATE TABLE incidents (
        dedup_key text PRIMARY KEY,
        tenant_id text NOT NULL,
        monitor_id text NOT NULL,
        incident_seq integer NOT NULL,
        status text NOT NULL,
        severity text NOT NULL,
        failure_layer text NOT NULL,
        started_at timestamptz NOT NULL,
        resolved_at timestamptz,
        probe_count integer NOT NULL,
        last_error text
      );
      CREATE INDEX incidents_tenant_status ON incidents (tenant_id, status, started_at DESC);
      CREATE TABLE deliveries (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL,
        endpoint_id uuid NOT NULL,
        alert_event_id uuid NOT NULL,
        event_type text NOT NULL,
        dedup_key text NOT NULL,
        sequence integer NOT NULL,
        body jsonb NOT NULL,
        status text NOT NULL,
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz,
        lease_until timestamptz,
        last_http_status integer,
        last_error text,
        stream_version integer NOT NULL,
        created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        updated_at timestamptz NOT NULL DEFAULT clock_timestamp()
      );
      CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status IN ('pending', 'retrying');
      CREATE INDEX deliveries_endpoint ON deliveries (endpoint_id, created_at DESC);
      CREATE INDEX deliveries_ordering ON deliveries (endpoint_id, dedup_key, sequence);
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TABLE deliveries; DROP TABLE incidents; DROP TABLE monitor_state;
      DROP TABLE processed_messages; DROP TABLE consumer_offsets; DROP TABLE outbox; DROP TABLE events;
      DROP TABLE endpoints; DROP TABLE monitors; DROP TABLE api_keys; DROP TABLE tenants;
    `);
  }
}
