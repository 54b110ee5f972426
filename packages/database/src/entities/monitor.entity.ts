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
  @Column('jsonb') headers!: Record<string, string>;
  /** Availability objective: `{target, window_days}`; empty means 99.9 % over 30 days. */
  @Column('jsonb', { default: {} }) slo!: { target?: number; window_days?: number };
  @CreateDateColumn({ type: 'timestamptz' }) created_at!: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updated_at!: Date;
}
