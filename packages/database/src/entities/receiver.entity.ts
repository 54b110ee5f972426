import { Column, CreateDateColumn, Entity, PrimaryColumn, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

export type ReceiverCallResult = 'processed' | 'ignored' | 'failed' | 'auth_failed';

/** An inbound receiver: another system's status webhook turned into probe results (DESIGN §6). */
@Entity('receivers')
export class ReceiverEntity {
  @PrimaryColumn('uuid') id!: string;
  @Column('uuid') tenant_id!: string;
  @Column('text') name!: string;
  @Column('uuid', { nullable: true }) monitor_id!: string | null;
  @Column('text') status_field!: string;
  @Column('text', { nullable: true }) service_field!: string | null;
  @Column('text', { nullable: true }) message_field!: string | null;
  /** Lower-cased raw word → operational | degraded | down | maintenance. */
  @Column('jsonb') mapping!: Record<string, string>;
  /** Sealed with SecretBox; never answered. */
  @Column('text', { nullable: true }) secret!: string | null;
  @Column('text') signature_header!: string;
  /** SHA-256 of the URL token: the token itself is shown once, like an API key. */
  @Column('text') token_hash!: string;
  @Column('text') token_prefix!: string;
  @CreateDateColumn({ type: 'timestamptz' }) created_at!: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updated_at!: Date;
}

/** One call of a receiver's URL; only the newest 50 per receiver are kept. */
@Entity('receiver_calls')
export class ReceiverCallEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' }) id!: string;
  @Column('uuid') receiver_id!: string;
  @Column('uuid') tenant_id!: string;
  @Column('timestamptz') received_at!: Date;
  @Column('text', { nullable: true }) source_ip!: string | null;
  /** The body as JSON text (bounded): text keeps NUL escapes and lone surrogates jsonb would refuse. */
  @Column('text', { nullable: true }) payload!: string | null;
  @Column('text') result!: ReceiverCallResult;
  @Column('text', { nullable: true }) reason!: string | null;
  @Column('uuid', { nullable: true }) monitor_id!: string | null;
  @Column('text', { nullable: true }) raw_status!: string | null;
  @Column('text', { nullable: true }) mapped_status!: string | null;
  @Column('text', { nullable: true }) previous_status!: string | null;
  @Column('text', { nullable: true }) new_status!: string | null;
  @Column('uuid', { nullable: true }) event_id!: string | null;
}

/** The last status a receiver reported for a monitor: the log's previous_status. */
@Entity('receiver_statuses')
export class ReceiverStatusEntity {
  @PrimaryColumn('uuid') receiver_id!: string;
  @PrimaryColumn('uuid') monitor_id!: string;
  @Column('text') status!: string;
  @Column('timestamptz') updated_at!: Date;
}
