import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Inbound receivers (status webhooks pushed to Tocsin), their bounded call log (the last
 * 50 per receiver, trimmed on every insert) and the last status each receiver reported per
 * monitor, which the log shows as previous/new status.
 */
export class InboundReceivers1764200000000 implements MigrationInterface {
  name = 'InboundReceivers1764200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE receivers (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        name text NOT NULL,
        monitor_id uuid REFERENCES monitors(id) ON DELETE CASCADE,
        status_field text NOT NULL,
        service_field text,
        message_field text,
        mapping jsonb NOT NULL DEFAULT '{}',
        secret text,
        signature_header text NOT NULL DEFAULT 'X-Webhook-Signature',
        token_hash text NOT NULL UNIQUE,
        token_prefix text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT receivers_target CHECK (monitor_id IS NOT NULL OR service_field IS NOT NULL)
      );
      CREATE INDEX receivers_tenant ON receivers (tenant_id, created_at, id);

      CREATE TABLE receiver_calls (
        id bigserial PRIMARY KEY,
        receiver_id uuid NOT NULL REFERENCES receivers(id) ON DELETE CASCADE,
        tenant_id uuid NOT NULL,
        received_at timestamptz NOT NULL DEFAULT now(),
        source_ip text,
        payload text,
        result text NOT NULL,
        reason text,
        monitor_id uuid,
        raw_status text,
        mapped_status text,
        previous_status text,
        new_status text,
        event_id uuid
      );
      CREATE INDEX receiver_calls_newest ON receiver_calls (receiver_id, id DESC);

      CREATE TABLE receiver_statuses (
        receiver_id uuid NOT NULL REFERENCES receivers(id) ON DELETE CASCADE,
        monitor_id uuid NOT NULL,
        status text NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (receiver_id, monitor_id)
      );
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE receiver_statuses; DROP TABLE receiver_calls; DROP TABLE receivers;');
  }
}
