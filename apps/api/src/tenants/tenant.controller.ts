import { Controller, Get, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { TenantEntity } from '@tocsin/database';
import { TenantGuard, TenantId } from '../auth/guards';
import { notFound } from '../common/uuid-param.pipe';

/** The calling key's own tenant (Kafka producers need its id for record keys and headers). */
@ApiTags('tenant')
@ApiBearerAuth()
@UseGuards(TenantGuard)
@Controller('v1/tenant')
export class TenantController {
  constructor(private readonly dataSource: DataSource) {}

  @Get()
  async get(@TenantId() tenantId: string) {
    const tenant = await this.dataSource.getRepository(TenantEntity).findOneBy({ id: tenantId });
    if (!tenant) throw notFound('tenant', tenantId);
    return { id: tenant.id, tenant_id: tenant.id, name: tenant.name, created_at: tenant.created_at };
  }
}
