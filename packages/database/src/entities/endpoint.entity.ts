import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

export type EndpointStatus = 'active' | 'paused' | 'degraded' | 'disabled';

@Entity('endpoints')
export class EndpointEntity {
  @PrimaryColumn('uuid') id!: string;
  @Column('uuid') tenant_id!: string;
  @Column('text') name!: string;
  @Column('text') url!: string;
  /** Event types to receive; `*` matches all. */
  @Column('jsonb') events!: string[];
  @Column('jsonb') severities!: string[];
  @Column('boolean') include_recovery!: boolean;
  @Column('text') method!: string;
  @Column('jsonb') headers!: Record<string, string>;
  @Column('text') secret!: string;
  @Column('jsonb') retry_schedule_seconds!: number[];
  @Column('integer') timeout_ms!: number;
  @Column('text') status!: EndpointStatus;
  @CreateDateColumn({ type: 'timestamptz' }) created_at!: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updated_at!: Date;
}
