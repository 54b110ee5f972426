import { Injectable } from '@nestjs/common';
import { DataSource, type Repository } from 'typeorm';
import { DeliveryEntity, EndpointEntity } from '@tocsin/database';
import { keysetWhere } from '../common/keyset';
import type { ListQuery } from '../common/pagination';

/** Every method takes the tenant: a query without it does not compile. */
@Injectable()
export class EndpointRepository {
  private readonly endpoints: Repository<EndpointEntity>;

  constructor(private readonly dataSource: DataSource) {
    this.endpoints = dataSource.getRepository(EndpointEntity);
  }

  find(tenantId: string, id: string): Promise<EndpointEntity | null> {
    return this.endpoints.findOneBy({ tenant_id: tenantId, id });
  }

  list(tenantId: string, query: ListQuery): Promise<EndpointEntity[]> {
    return keysetWhere(this.endpoints.createQueryBuilder('e').where('e.tenant_id = :tenantId', { tenantId }), 'e', query).getMany();
  }

  insert(endpoint: Omit<EndpointEntity, 'created_at' | 'updated_at'>): Promise<EndpointEntity> {
    return this.endpoints.save(endpoint);
  }

  async update(tenantId: string, id: string, changes: Partial<EndpointEntity>): Promise<EndpointEntity | null> {
    await this.endpoints.update({ tenant_id: tenantId, id }, changes);
    return this.find(tenantId, id);
  }

  async remove(tenantId: string, id: string): Promise<boolean> {
    return ((await this.endpoints.delete({ tenant_id: tenantId, id })).affected ?? 0) > 0;
  }

  deliveries(tenantId: string, endpointId: string, query: ListQuery): Promise<DeliveryEntity[]> {
    const qb = this.dataSource
      .getRepository(DeliveryEntity)
      .createQueryBuilder('d')
      .where('d.tenant_id = :tenantId AND d.endpoint_id = :endpointId', { tenantId, endpointId });
    return keysetWhere(qb, 'd', query).getMany();
  }

  /** Endpoint stats from the deliveries projection of attempt events. */
  async stats(tenantId: string, endpointId: string) {
    const [row] = await this.dataSource.query(
      `SELECT count(*) FILTER (WHERE status = 'delivered')::int AS delivered,
              count(*) FILTER (WHERE status = 'dead_lettered')::int AS failed,
              max(updated_at) FILTER (WHERE status = 'delivered') AS last_delivery_at
       FROM deliveries WHERE tenant_id = $1 AND endpoint_id = $2`,
      [tenantId, endpointId],
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
