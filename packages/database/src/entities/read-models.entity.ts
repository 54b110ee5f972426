import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Projection of monitor streams: one row per incident. */
@Entity('incidents')
export class IncidentEntity {
  @PrimaryColumn('text') dedup_key!: string;
  @Column('text') tenant_id!: string;
  @Column('text') monitor_id!: string;
  @Column('integer') incident_seq!: number;
  @Column('text') status!: 'open' | 'resolved';
  @Column('text') severity!: string;
  @Column('text') failure_layer!: string;
  @Column('timestamptz') started_at!: Date;
  @Column('timestamptz', { nullable: true }) resolved_at!: Date | null;
  @Column('integer') probe_count!: number;
  @Column('text', { nullable: true }) last_error!: string | null;
  @Column('timestamptz', { nullable: true }) escalated_at!: Date | null;
}

export type DeliveryStatus =
  | 'pending'
  | 'in_flight'
  | 'retrying'
  | 'delivered'
  | 'failed'
  | 'dead_lettered'
  | 'skipped';

/** Projection of delivery streams, also the durable work queue the dispatcher claims from. */
@Entity('deliveries')
export class DeliveryEntity {
  @PrimaryColumn('uuid') id!: string;
  @Column('uuid') tenant_id!: string;
  @Column('uuid') endpoint_id!: string;
  @Column('uuid') alert_event_id!: string;
  @Column('text') event_type!: string;
  @Column('text') dedup_key!: string;
  @Column('integer') sequence!: number;
  @Column('jsonb') body!: Record<string, unknown>;
  @Column('text') status!: DeliveryStatus;
  @Column('integer') attempts!: number;
  /** Attempts made before the latest redelivery: the retry schedule counts from here. */
  @Column('integer') schedule_offset!: number;
  @Column('timestamptz', { nullable: true }) next_attempt_at!: Date | null;
  @Column('timestamptz', { nullable: true }) lease_until!: Date | null;
  @Column('integer', { nullable: true }) last_http_status!: number | null;
  @Column('text', { nullable: true }) last_error!: string | null;
  @Column('integer') stream_version!: number;
  /** W3C traceparent of the span that made the delivery (the router's, for an alert); null before tracing. */
  @Column('text', { nullable: true }) traceparent!: string | null;
  /** The delivery this one stands in for: a P1 its own endpoint could not deliver, sent by that endpoint's fallback. */
  @Column('uuid', { nullable: true }) fallback_of!: string | null;
  @Column('timestamptz') created_at!: Date;
  @Column('timestamptz') updated_at!: Date;
}

/** The router's snapshot of each monitor aggregate. */
@Entity('monitor_state')
export class MonitorStateEntity {
  @PrimaryColumn('text') tenant_id!: string;
  @PrimaryColumn('text') monitor_id!: string;
  @Column('integer') stream_version!: number;
  @Column('jsonb') state!: Record<string, unknown>;
  @Column('timestamptz', { nullable: true }) last_probe_at!: Date | null;
  @Column('timestamptz') updated_at!: Date;
}
