import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

export type EndpointStatus = 'active' | 'paused' | 'degraded' | 'disabled';

/** Where an endpoint's deliveries go (DESIGN §9). */
export const ENDPOINT_TYPES = ['webhook', 'pagerduty', 'slack', 'email', 'kafka'] as const;
export type EndpointType = (typeof ENDPOINT_TYPES)[number];

export interface PreviousSecret {
  readonly secret: string;
  readonly expires_at: string;
}

export type BreakerState = 'closed' | 'open' | 'half_open';

/** Projection of an endpoint's attempt events: totals, recent outcomes and its circuit breaker. */
@Entity('endpoint_stats')
export class EndpointStatsEntity {
  @PrimaryColumn('uuid') endpoint_id!: string;
  @Column('uuid') tenant_id!: string;
  @Column('bigint') delivered!: string;
  @Column('bigint') failed!: string;
  @Column('timestamptz', { nullable: true }) last_delivery_at!: Date | null;
  @Column('timestamptz', { nullable: true }) last_attempt_at!: Date | null;
  /** The latest attempts, oldest first: `s` succeeded, `f` failed. */
  @Column('text') recent_outcomes!: string;
  @Column('text') breaker_state!: BreakerState;
  @Column('integer') breaker_failures!: number;
  @Column('timestamptz', { nullable: true }) breaker_opened_at!: Date | null;
  @Column('timestamptz', { nullable: true }) breaker_retry_at!: Date | null;
  @Column('integer') breaker_opens!: number;
}

@Entity('endpoints')
export class EndpointEntity {
  @PrimaryColumn('uuid') id!: string;
  @Column('uuid') tenant_id!: string;
  @Column('text') name!: string;
  /**
   * `webhook` (a signed POST to url), `pagerduty` (Events API v2; the routing key sealed in
   * `secret`), `slack` (the incoming webhook's URL sealed in `secret`; `url` shows its origin)
   * `email` (a message through TOCSIN_SMTP_URL; `url` is `mailto:` its recipients) or `kafka`
   * (a record on the tenant's own topic; brokers, topic and credentials sealed in `secret`).
   */
  @Column('text', { default: 'webhook' }) type!: EndpointType;
  @Column('text') url!: string;
  /** Event types to receive; `*` matches all. */
  @Column('jsonb') events!: string[];
  @Column('jsonb') severities!: string[];
  @Column('boolean') include_recovery!: boolean;
  @Column('text') method!: string;
  /** Plain headers of endpoints stored before headers were sealed; new writes leave it empty. */
  @Column('jsonb') headers!: Record<string, string>;
  /** The headers as a SecretBox-sealed JSON object; answered only where the secret is. */
  @Column('text', { nullable: true }) sealed_headers!: string | null;
  /** The sealed headers' names, which every answer may show. */
  @Column('jsonb', { default: () => "'[]'" }) header_names!: string[];
  /** Sealed with SecretBox (`enc:v2:…`, bound to the row); never presented in a list or log. */
  @Column('text') secret!: string;
  /** Secrets replaced by a rotation that still sign until they expire, each sealed. */
  @Column('jsonb') previous_secrets!: PreviousSecret[];
  @Column('jsonb') retry_schedule_seconds!: number[];
  @Column('integer') timeout_ms!: number;
  @Column('text') status!: EndpointStatus;
  /** Another of the tenant's endpoints that takes the P1s this one cannot deliver (dead-lettered, paused, disabled). */
  @Column('uuid', { nullable: true }) fallback_endpoint_id!: string | null;
  @CreateDateColumn({ type: 'timestamptz' }) created_at!: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updated_at!: Date;
}
