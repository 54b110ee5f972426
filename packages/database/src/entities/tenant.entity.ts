import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

@Entity('tenants')
export class TenantEntity {
  @PrimaryColumn('uuid') id!: string;
  @Column('text') name!: string;
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
