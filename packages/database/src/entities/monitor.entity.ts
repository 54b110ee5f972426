import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

export type MonitorKind = 'mcp' | 'http';

@Entity('monitors')
export class MonitorEntity {
  @PrimaryColumn('uuid') id!: string;
  @Column('uuid') tenant_id!: string;
  @Column('text') slug!: string;
  @Column('text') name!: string;
  @Column('text') url!: string;
  @Column('text') kind!: MonitorKind;
  @Column('integer') interval_seconds!: number;
  @Column('integer') timeout_ms!: number;
  @Column('integer') confirm_after!: number;
  @Column('integer') recover_after!: number;
  /** Failure layer → severity overrides for this monitor. */
  @Column('jsonb') severity_policy!: Record<string, string>;
  /** Plain headers of monitors stored before headers were sealed; new writes leave it empty. */
  @Column('jsonb') headers!: Record<string, string>;
  /** The headers as a SecretBox-sealed JSON object; never answered by the API. */
  @Column('text', { nullable: true }) sealed_headers!: string | null;
  /** The sealed headers' names, which the API may show. */
  @Column('jsonb', { default: () => "'[]'" }) header_names!: string[];
  /** `kind: http`: the status that means up; null means any 2xx. */
  @Column('integer', { nullable: true }) expected_status!: number | null;
  /** What probing learned, written by probe-ingest when it changes. */
  @Column('text', { nullable: true }) mcp_generation!: 'handshake' | 'stateless' | null;
  @Column('text', { nullable: true }) protocol_version!: string | null;
  @Column('integer', { nullable: true }) tools_count!: number | null;
  /** Availability objective: `{target, window_days}`; empty means 99.9 % over 30 days. */
  @Column('jsonb', { default: {} }) slo!: { target?: number; window_days?: number };
  @CreateDateColumn({ type: 'timestamptz' }) created_at!: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updated_at!: Date;
}
