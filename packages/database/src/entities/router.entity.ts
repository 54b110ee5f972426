import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Tenant-wide settings; `severity_policy` maps failure layers to severities for every monitor. */
@Entity('tenant_settings')
export class TenantSettingsEntity {
  @PrimaryColumn('uuid') tenant_id!: string;
  @Column('jsonb') severity_policy!: Record<string, string>;
  @Column('boolean') inhibit_by_host!: boolean;
  @Column('timestamptz') updated_at!: Date;
}

/** A maintenance window set through the API (configuration the router reads). */
@Entity('maintenance_windows')
export class MaintenanceWindowEntity {
  @PrimaryColumn('uuid') id!: string;
  @Column('uuid') tenant_id!: string;
  @Column('uuid') monitor_id!: string;
  @Column('timestamptz') starts_at!: Date;
  @Column('timestamptz') ends_at!: Date;
  @Column('text', { nullable: true }) reason!: string | null;
  @Column('timestamptz') created_at!: Date;
}

/** A silence set through the API: the alerts it matches are recorded as skipped, not sent. */
@Entity('silences')
export class SilenceEntity {
  @PrimaryColumn('uuid') tenant_id!: string;
  @PrimaryColumn('uuid') id!: string;
  @Column('uuid', { nullable: true }) monitor_id!: string | null;
  @Column('text', { array: true, nullable: true }) severities!: string[] | null;
  @Column('timestamptz') starts_at!: Date;
  @Column('timestamptz') ends_at!: Date;
  @Column('text', { nullable: true }) comment!: string | null;
  @Column('timestamptz') created_at!: Date;
}

/** Projection of MaintenanceStarted/Ended: when a monitor actually was in maintenance. */
@Entity('maintenance_periods')
export class MaintenancePeriodEntity {
  @PrimaryColumn('text') tenant_id!: string;
  @PrimaryColumn('text') monitor_id!: string;
  @PrimaryColumn('integer') maintenance_seq!: number;
  @Column('text') reason!: string;
  @Column('uuid', { nullable: true }) window_id!: string | null;
  @Column('timestamptz') started_at!: Date;
  @Column('timestamptz', { nullable: true }) ended_at!: Date | null;
}
