import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** What a tenant may hold; each is counted on creation. */
export const QUOTA_RESOURCES = ['monitors', 'endpoints', 'receivers'] as const;
export type QuotaResource = (typeof QUOTA_RESOURCES)[number];

@Entity('tenants')
export class TenantEntity {
  @PrimaryColumn('uuid') id!: string;
  @Column('text') name!: string;
  /** The operator's limits for this tenant; one not set is the deployment's TOCSIN_QUOTA_* default. */
  @Column('jsonb', { default: () => "'{}'" }) quotas!: Partial<Record<QuotaResource, number>>;
  @CreateDateColumn({ type: 'timestamptz' }) created_at!: Date;
}

@Entity('api_keys')
export class ApiKeyEntity {
  @PrimaryColumn('uuid') id!: string;
  @Column('uuid') tenant_id!: string;
  @Column('text') key_hash!: string;
  @Column('text') prefix!: string;
  @CreateDateColumn({ type: 'timestamptz' }) created_at!: Date;
  /** Set when the key is revoked (or rotated away); a revoked key no longer authenticates. */
  @Column('timestamptz', { nullable: true }) revoked_at!: Date | null;
}
