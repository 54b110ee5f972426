import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager, type Repository } from 'typeorm';
import { MonitorEntity, ReceiverCallEntity, ReceiverEntity, ReceiverStatusEntity } from '@tocsin/database';
import { keysetWhere } from '../common/keyset';
import type { ListQuery } from '../common/pagination';

/** The newest calls kept per receiver; older ones are deleted as new ones arrive. */
export const RECEIVER_LOG_SIZE = 50;

export type NewReceiverCall = Omit<ReceiverCallEntity, 'id' | 'previous_status' | 'new_status' | 'receiver_id' | 'tenant_id'>;

/** Every tenant-facing method takes the tenant; the incoming hook finds its receiver by token hash. */
@Injectable()
export class ReceiverRepository {
  private readonly receivers: Repository<ReceiverEntity>;

  constructor(private readonly dataSource: DataSource) {
    this.receivers = dataSource.getRepository(ReceiverEntity);
  }

  find(tenantId: string, id: string): Promise<ReceiverEntity | null> {
    return this.receivers.findOneBy({ tenant_id: tenantId, id });
  }

  findByTokenHash(tokenHash: string): Promise<ReceiverEntity | null> {
    return this.receivers.findOneBy({ token_hash: tokenHash });
  }

  list(tenantId: string, query: ListQuery): Promise<ReceiverEntity[]> {
    const qb = this.receivers.createQueryBuilder('r').where('r.tenant_id = :tenantId', { tenantId });
    return keysetWhere(qb, 'r', query).getMany();
  }

  insert(receiver: Omit<ReceiverEntity, 'created_at' | 'updated_at'>): Promise<ReceiverEntity> {
    return this.receivers.save(receiver);
  }

  async remove(tenantId: string, id: string): Promise<boolean> {
    const result = await this.receivers.delete({ tenant_id: tenantId, id });
    return (result.affected ?? 0) > 0;
  }

  monitorExists(tenantId: string, monitorId: string): Promise<boolean> {
    return this.dataSource.getRepository(MonitorEntity).existsBy({ tenant_id: tenantId, id: monitorId });
  }

  /** A monitor of the tenant by slug, or by name ignoring case; a slug match wins. */
  async monitorByService(tenantId: string, service: string): Promise<string | undefined> {
    const rows: Array<{ id: string }> = await this.dataSource.query(
      `SELECT id FROM monitors WHERE tenant_id = $1 AND (slug = $2 OR lower(name) = lower($2))
       ORDER BY (slug = $2) DESC, created_at LIMIT 1`,
      [tenantId, service],
    );
    return rows[0]?.id;
  }

  async log(tenantId: string, receiverId: string): Promise<ReceiverCallEntity[]> {
    return this.dataSource
      .getRepository(ReceiverCallEntity)
      .find({ where: { tenant_id: tenantId, receiver_id: receiverId }, order: { id: 'DESC' }, take: RECEIVER_LOG_SIZE });
  }

  /**
   * Appends one call to the receiver's log and trims it to the newest 50, under a lock on
   * the receiver row so concurrent calls neither overshoot the cap nor race on the
   * previous status. A processed call also becomes the monitor's last reported status.
   */
  async recordCall(receiver: ReceiverEntity, call: NewReceiverCall): Promise<ReceiverCallEntity> {
    return this.dataSource.transaction(async (tx) => {
      await tx.query('SELECT 1 FROM receivers WHERE id = $1 FOR UPDATE', [receiver.id]);
      const previous = call.monitor_id ? await this.lastStatus(tx, receiver.id, call.monitor_id) : null;
      const next = call.result === 'processed' ? call.mapped_status : previous;
      if (call.result === 'processed' && call.monitor_id && next) {
        await tx.getRepository(ReceiverStatusEntity).upsert(
          { receiver_id: receiver.id, monitor_id: call.monitor_id, status: next, updated_at: call.received_at },
          ['receiver_id', 'monitor_id'],
        );
      }
      const saved = await tx.getRepository(ReceiverCallEntity).save({
        ...call,
        receiver_id: receiver.id,
        tenant_id: receiver.tenant_id,
        previous_status: previous,
        new_status: next,
      });
      await tx.query(
        `DELETE FROM receiver_calls WHERE receiver_id = $1 AND id <= (
           SELECT id FROM receiver_calls WHERE receiver_id = $1 ORDER BY id DESC OFFSET $2 LIMIT 1)`,
        [receiver.id, RECEIVER_LOG_SIZE],
      );
      return saved;
    });
  }

  private async lastStatus(tx: EntityManager, receiverId: string, monitorId: string): Promise<string | null> {
    const row = await tx.getRepository(ReceiverStatusEntity).findOneBy({ receiver_id: receiverId, monitor_id: monitorId });
    return row?.status ?? null;
  }
}
