import { Controller, Get, Inject, UseGuards } from '@nestjs/common';
import type { TocsinConfig } from '@tocsin/config';
import { TOCSIN_CONFIG } from '@tocsin/runtime';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { TenantEntity } from '@tocsin/database';
import { TenantGuard, TenantId } from '../auth/guards';
import { notFound } from '../common/uuid-param.pipe';
import { Quotas } from './quotas';

/** The calling key's own tenant (Kafka producers need its id for record keys and headers). */
@ApiTags('tenant')
@ApiBearerAuth()
@UseGuards(TenantGuard)
@Controller('v1/tenant')
export class TenantController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly quotas: Quotas,
    @Inject(TOCSIN_CONFIG) private readonly config: TocsinConfig,
  ) {}

  /** The tenant, with what it holds against each quota and the push rate each of its keys may keep. */
  @Get()
  async get(@TenantId() tenantId: string) {
    const tenant = await this.dataSource.getRepository(TenantEntity).findOneBy({ id: tenantId });
    if (!tenant) throw notFound('tenant', tenantId);
    return {
      id: tenant.id,
      tenant_id: tenant.id,
      name: tenant.name,
      created_at: tenant.created_at,
      quotas: {
        ...(await this.quotas.usage(tenantId)),
        requests_per_second_per_key: { limit: this.config.TOCSIN_RATE_LIMIT_PER_SECOND, burst: this.config.TOCSIN_RATE_LIMIT_BURST },
        pushed_results_per_second: { limit: this.config.TOCSIN_QUOTA_PUSHED_RESULTS_PER_SECOND },
      },
    };
  }
}
