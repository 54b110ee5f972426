import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { endpointStreamId } from '@tocsin/contracts';
import { DeliveryEntity, EndpointEntity, type EndpointStatsEntity } from '@tocsin/database';
import { EventStore, type NewEvent } from '@tocsin/event-store';
import { keysetWhere } from '../common/keyset';
import type { ListQuery } from '../common/pagination';
import { TenantScope } from '../tenants/tenant-scope';
import type { DeliveryListQuery } from './endpoint.schemas';

export interface EndpointStats {
  readonly delivered: number;
  readonly failed: number;
  readonly success_rate: number | null;
  readonly last_delivery_at: Date | null;
}

export interface BreakerView {
  readonly state: 'closed' | 'open' | 'half_open';
  readonly consecutive_failures: number;
  readonly opened_at: Date | null;
  readonly retry_at: Date | null;
}

export interface EndpointHealth {
  readonly stats: EndpointStats;
  readonly breaker: BreakerView;
}

const NO_HEALTH: EndpointHealth = {
  stats: { delivered: 0, failed: 0, success_rate: null, last_delivery_at: null },
  breaker: { state: 'closed', consecutive_failures: 0, opened_at: null, retry_at: null },
};

/**
 * Every method takes the tenant, so a query without it does not compile, and runs through
 * the request's tenant scope, which adds `tenant_id` itself and refuses a tenant other than
 * the authenticated one.
 */
@Injectable()
export class EndpointRepository {
  constructor(
    private readonly scope: TenantScope,
    private readonly dataSource: DataSource,
    private readonly store: EventStore,
  ) {}

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

  /** Removes the endpoint; those of the tenant that named it their fallback then name none. */
  async remove(tenantId: string, id: string): Promise<boolean> {
    if ((await this.endpoints(tenantId).delete({ id })) === 0) return false;
    await this.endpoints(tenantId).update({ fallback_endpoint_id: id }, { fallback_endpoint_id: null });
    return true;
  }

  /**
   * Runs `change` on the endpoint row locked for update, and appends what it returns to the
   * endpoint's stream in the same transaction. Every writer of an endpoint stream locks the
   * row first, so the stream's version cannot move underneath it.
   */
  async change<T>(
    tenantId: string,
    id: string,
    change: (endpoint: EndpointEntity, manager: EntityManager) => Promise<{ value: T; events: NewEvent[] }>,
  ): Promise<T | null> {
    if (this.scope.tenantId !== tenantId) throw new Error('a change named a tenant other than the authenticated one');
    return this.dataSource.transaction(async (manager) => {
      const endpoint = await manager
        .getRepository(EndpointEntity)
        .createQueryBuilder('e')
        .setLock('pessimistic_write')
        .where('e.tenant_id = :tenantId AND e.id = :id', { tenantId, id })
        .getOne();
      if (!endpoint) return null;
      const { value, events } = await change(endpoint, manager);
      if (events.length > 0) {
        const stream = endpointStreamId(id);
        const appended = await this.store.append(manager, stream, await this.store.streamVersion(manager, stream), events, {
          tenant_id: tenantId,
        });
        if (!appended.ok) throw new Error(`endpoint stream ${stream} moved while its row was locked`);
      }
      return value;
    });
  }

  deliveries(tenantId: string, endpointId: string, query: DeliveryListQuery): Promise<DeliveryEntity[]> {
    const qb = this.scope
      .repository(DeliveryEntity, tenantId)
      .createQueryBuilder('d')
      .andWhere('d.endpoint_id = :endpointId', { endpointId });
    if (query.status) qb.andWhere('d.status = :status', { status: query.status });
    return keysetWhere(qb, 'd', query).getMany();
  }

  /** Stats and breaker of each endpoint, from the endpoint_stats projection of attempt events. */
  async health(tenantId: string, endpointIds: readonly string[]): Promise<Map<string, EndpointHealth>> {
    const rows =
      endpointIds.length === 0
        ? []
        : await this.scope.query<EndpointStatsEntity>('SELECT * FROM endpoint_stats WHERE tenant_id = $1 AND endpoint_id = ANY($2::uuid[])', [
            [...endpointIds],
          ]);
    const now = Date.now();
    const byId = new Map(rows.map((r) => [r.endpoint_id, r]));
    return new Map(
      endpointIds.map((id) => {
        const row = byId.get(id);
        if (!row) return [id, NO_HEALTH];
        const delivered = Number(row.delivered);
        const failed = Number(row.failed);
        const retryAt = row.breaker_retry_at ? new Date(row.breaker_retry_at) : null;
        const state = row.breaker_state === 'open' && retryAt && retryAt.getTime() <= now ? 'half_open' : row.breaker_state;
        return [
          id,
          {
            stats: {
              delivered,
              failed,
              success_rate: delivered + failed === 0 ? null : Math.round((delivered / (delivered + failed)) * 10_000) / 10_000,
              last_delivery_at: row.last_delivery_at,
            },
            breaker: { state, consecutive_failures: row.breaker_failures, opened_at: row.breaker_opened_at, retry_at: retryAt },
          },
        ];
      }),
    );
  }

  /** Ids of an endpoint's deliveries in the given statuses created in [from, to). */
  /** At most `limit` ids, oldest first: the caller asks for one more than it accepts to tell a range that is too large. */
  async deliveriesInRange(
    tenantId: string,
    endpointId: string,
    statuses: readonly string[],
    from: string,
    to: string,
    limit: number,
  ): Promise<string[]> {
    if (this.scope.tenantId !== tenantId) throw new Error('a query named a tenant other than the authenticated one');
    const rows = await this.scope.query<{ id: string }>(
      `SELECT id FROM deliveries
       WHERE tenant_id = $1 AND endpoint_id = $2 AND status = ANY($3::text[]) AND created_at >= $4 AND created_at < $5
       ORDER BY created_at, id
       LIMIT $6`,
      [endpointId, [...statuses], from, to, limit],
    );
    return rows.map((r) => r.id);
  }
}
