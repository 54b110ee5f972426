import { Inject, Injectable } from '@nestjs/common';
import { Counter } from 'prom-client';
import { DataSource } from 'typeorm';
import type { TocsinConfig } from '@tocsin/config';
import { QUOTA_RESOURCES, TenantEntity, type QuotaResource } from '@tocsin/database';
import { MetricsRegistry, TOCSIN_CONFIG } from '@tocsin/runtime';
import { refuse, type Refusal } from '../common/result';

/** The table each resource's rows live in (each indexed by tenant). */
const TABLE: Record<QuotaResource, string> = { monitors: 'monitors', endpoints: 'endpoints', receivers: 'receivers' };
const DEFAULT_SETTING: Record<QuotaResource, 'TOCSIN_QUOTA_MONITORS' | 'TOCSIN_QUOTA_ENDPOINTS' | 'TOCSIN_QUOTA_RECEIVERS'> = {
  monitors: 'TOCSIN_QUOTA_MONITORS',
  endpoints: 'TOCSIN_QUOTA_ENDPOINTS',
  receivers: 'TOCSIN_QUOTA_RECEIVERS',
};

export interface QuotaUsage {
  readonly limit: number;
  readonly used: number;
  /** `tenant` when the operator set this tenant's own limit, `default` for TOCSIN_QUOTA_*. */
  readonly source: 'tenant' | 'default';
}

/**
 * What each tenant may hold: its own quotas where the operator set them, the deployment's
 * TOCSIN_QUOTA_* otherwise. A create past the limit is refused with a 409 naming the limit
 * and counted in tocsin_quota_refusals_total. The count and the insert are not one
 * transaction, so two creates racing at the limit may both pass: a quota bounds what a
 * tenant holds, it is not a ledger.
 */
@Injectable()
export class Quotas {
  private readonly refusals: Counter<'resource'>;

  constructor(
    private readonly dataSource: DataSource,
    @Inject(TOCSIN_CONFIG) private readonly config: TocsinConfig,
    metrics: MetricsRegistry,
  ) {
    this.refusals = new Counter({
      name: 'tocsin_quota_refusals_total',
      help: 'Creates refused because the tenant holds as many as its quota allows, by resource',
      labelNames: ['resource'],
      registers: [metrics],
    });
    for (const resource of QUOTA_RESOURCES) this.refusals.inc({ resource }, 0);
  }

  /** Null while the tenant may create one more; else the refusal naming its limit. */
  async refusal(tenantId: string, resource: QuotaResource): Promise<Refusal | null> {
    const usage = await this.usageOf(tenantId, resource);
    if (usage.used < usage.limit) return null;
    this.refusals.inc({ resource });
    const where = usage.source === 'tenant' ? `this tenant's quotas.${resource}` : DEFAULT_SETTING[resource];
    return refuse(409, `${resource} quota reached: the tenant holds ${usage.used} of the ${usage.limit} it may (${where}); delete one or ask the operator to raise it`, `quotas.${resource}`);
  }

  async usage(tenantId: string): Promise<Record<QuotaResource, QuotaUsage>> {
    const entries = await Promise.all(QUOTA_RESOURCES.map(async (r) => [r, await this.usageOf(tenantId, r)] as const));
    return Object.fromEntries(entries) as Record<QuotaResource, QuotaUsage>;
  }

  private async usageOf(tenantId: string, resource: QuotaResource): Promise<QuotaUsage> {
    const tenant = await this.dataSource.getRepository(TenantEntity).findOne({ where: { id: tenantId }, select: { id: true, quotas: true } });
    const own = tenant?.quotas[resource];
    const [{ n }] = (await this.dataSource.query(`SELECT count(*)::int AS n FROM ${TABLE[resource]} WHERE tenant_id = $1`, [tenantId])) as [{ n: number }];
    return own === undefined ? { limit: this.config[DEFAULT_SETTING[resource]], used: n, source: 'default' } : { limit: own, used: n, source: 'tenant' };
  }
}
