import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { MonitorEntity, ReceiverCallEntity, ReceiverEntity, ReceiverStatusEntity } from '@tocsin/database';
import { keysetWhere } from '../common/keyset';
import type { ListQuery } from '../common/pagination';
import { TenantScope } from '../tenants/tenant-scope';

/** The newest calls kept per receiver; older ones are deleted as new ones arrive. */
export const RECEIVER_LOG_SIZE = 50;

export type NewReceiverCall = Omit<ReceiverCallEntity, 'id' | 'previous_status' | 'new_status' | 'receiver_id' | 'tenant_id'>;

/**
 * Every method takes the tenant and runs through the request's tenant scope. The one
 * exception is finding a receiver by its token hash: the incoming hook has no API key, and
 * the token is what names the tenant (the hook then acts inside that tenant's context).
 */
@Injectable()
export class ReceiverRepository {
  constructor(
    private readonly scope: TenantScope,
    private readonly dataSource: DataSource,
  ) {}

  private receivers(tenantId: string) {
    return this.scope.repository(ReceiverEntity, tenantId);
  }

  find(tenantId: string, id: string): Promise<ReceiverEntity | null> {
    return this.receivers(tenantId).findOneBy({ id });
  }

  findByTokenHash(tokenHash: string): Promise<ReceiverEntity | null> {
    return this.dataSource.getRepository(ReceiverEntity).findOneBy({ token_hash: tokenHash });
  }

  list(tenantId: string, query: ListQuery): Promise<ReceiverEntity[]> {
    return keysetWhere(this.receivers(tenantId).createQueryBuilder('r'), 'r', query).getMany();
  }

  insert(receiver: Omit<ReceiverEntity, 'created_at' | 'updated_at'>): Promise<ReceiverEntity> {
    return this.receivers(receiver.tenant_id).save(receiver);
  }

  async remove(tenantId: string, id: string): Promise<boolean> {
    return (await this.receivers(tenantId).delete({ id })) > 0;
  }

  monitorExists(tenantId: string, monitorId: string): Promise<boolean> {
    return this.scope.repository(MonitorEntity, tenantId).existsBy({ id: monitorId });
  }

  /** A monitor of the tenant by slug, or by name ignoring case; a slug match wins. */
  async monitorByService(tenantId: string, service: string): Promise<string | undefined> {
    if (this.scope.tenantId !== tenantId) throw new Error('a query named a tenant other than the authenticated one');
    const rows = await this.scope.query<{ id: string }>(
      `SELECT id FROM monitors WHERE tenant_id = $1 AND (slug = $2 OR lower(name) = lower($2))
       ORDER BY (slug = $2) DESC, created_at LIMIT 1`,
      [service],
    );
    return rows[0]?.id;
  }

  log(tenantId: string, receiverId: string): Promise<ReceiverCallEntity[]> {
    return this.scope
      .repository(ReceiverCallEntity, tenantId)
      .find({ where: { receiver_id: receiverId }, order: { id: 'DESC' }, take: RECEIVER_LOG_SIZE });
  }

  /**
   * Appends one call to the receiver's log and trims it to the newest 50, under a lock on
   * the receiver row so concurrent calls neither overshoot the cap nor race on the
   * previous status. A processed call also becomes the monitor's last reported status.
   */
  async recordCall(receiver: ReceiverEntity, call: NewReceiverCall): Promise<ReceiverCallEntity> {
    return this.dataSource.transaction(async (tx) => {
      await tx.query('SELECT 1 FROM receivers WHERE id = $1 AND tenant_id = $2 FOR UPDATE', [receiver.id, receiver.tenant_id]);
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
