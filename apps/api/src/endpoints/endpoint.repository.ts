import { Injectable } from '@nestjs/common';
import { DeliveryEntity, EndpointEntity } from '@tocsin/database';
import { keysetWhere } from '../common/keyset';
import type { ListQuery } from '../common/pagination';
import { TenantScope } from '../tenants/tenant-scope';

/**
 * Every method takes the tenant, so a query without it does not compile, and runs through
 * the request's tenant scope, which adds `tenant_id` itself and refuses a tenant other than
 * the authenticated one.
 */
@Injectable()
export class EndpointRepository {
  constructor(private readonly scope: TenantScope) {}

  private endpoints(tenantId: string) {
    return this.scope.repository(EndpointEntity, tenantId);
  }

  find(tenantId: string, id: string): Promise<EndpointEntity | null> {
    return this.endpoints(tenantId).findOneBy({ id });
  }

  list(tenantId: string, query: ListQuery): Promise<EndpointEntity[]> {
    return keysetWhere(this.endpoints(tenantId).createQueryBuilder('e'), 'e', query).getMany();
  }

  insert(endpoint: Omit<EndpointEntity, 'created_at' | 'updated_at'>): Promise<EndpointEntity> {
    return this.endpoints(endpoint.tenant_id).save(endpoint);
  }

  async update(tenantId: string, id: string, changes: Partial<EndpointEntity>): Promise<EndpointEntity | null> {
    await this.endpoints(tenantId).update({ id }, changes);
    return this.find(tenantId, id);
  }

  async remove(tenantId: string, id: string): Promise<boolean> {
    return (await this.endpoints(tenantId).delete({ id })) > 0;
  }

  deliveries(tenantId: string, endpointId: string, query: ListQuery): Promise<DeliveryEntity[]> {
    const qb = this.scope
      .repository(DeliveryEntity, tenantId)
      .createQueryBuilder('d')
      .andWhere('d.endpoint_id = :endpointId', { endpointId });
    return keysetWhere(qb, 'd', query).getMany();
  }

  /** Endpoint stats from the deliveries projection of attempt events. */
  async stats(tenantId: string, endpointId: string) {
    const [row] = await this.scope.query<{ delivered: number; failed: number; last_delivery_at: Date | null }>(
      `SELECT count(*) FILTER (WHERE status = 'delivered')::int AS delivered,
              count(*) FILTER (WHERE status = 'dead_lettered')::int AS failed,
              max(updated_at) FILTER (WHERE status = 'delivered') AS last_delivery_at
       FROM deliveries WHERE tenant_id = $1 AND endpoint_id = $2`,
      [endpointId],
    );
    const delivered = Number(row?.delivered ?? 0);
    const failed = Number(row?.failed ?? 0);
    return {
      total_delivered: delivered,
      total_failed: failed,
      success_rate: delivered + failed === 0 ? null : delivered / (delivered + failed),
      last_delivery_at: row?.last_delivery_at ?? null,
    };
  }
}
