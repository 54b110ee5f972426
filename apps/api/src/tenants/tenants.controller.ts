import { Body, Controller, Get, HttpCode, Param, Patch, Post, Query, UseGuards } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiBody, ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { QUOTA_RESOURCES, TenantEntity, type QuotaResource } from '@tocsin/database';
import { AdminGuard } from '../auth/guards';
import { byCreation, listQuerySchema, toPage, type ListQuery } from '../common/pagination';
import { notFound, ResourceIdPipe } from '../common/uuid-param.pipe';
import { ZodValidationPipe } from '../common/zod-validation.pipe';
import { CreateTenantCommand, IssueApiKeyCommand } from './commands/create-tenant.command';
import { keysetWhere } from '../common/keyset';
import { jsonSchema } from '../openapi/document';

const createTenantSchema = z.strictObject({ name: z.string().trim().min(1).max(200) });

/** A tenant's own limits; null returns one to the deployment's TOCSIN_QUOTA_* default. */
const quotasSchema = z.strictObject(
  Object.fromEntries(QUOTA_RESOURCES.map((r) => [r, z.number().int().min(0).max(10_000_000).nullable().optional()])) as Record<
    QuotaResource,
    z.ZodOptional<z.ZodNullable<z.ZodNumber>>
  >,
);

@ApiTags('tenants (admin)')
@ApiBearerAuth()
@UseGuards(AdminGuard)
@Controller('v1/tenants')
export class TenantsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly dataSource: DataSource,
  ) {}

  @Post()
  @ApiBody({ schema: jsonSchema(createTenantSchema) })
  async create(@Body(new ZodValidationPipe(createTenantSchema)) body: z.output<typeof createTenantSchema>) {
    const tenant = await this.commands.execute(new CreateTenantCommand(body.name));
    return { id: tenant.id, name: tenant.name };
  }

  @Get()
  async list(@Query(new ZodValidationPipe(listQuerySchema)) query: ListQuery) {
    const qb = this.dataSource.getRepository(TenantEntity).createQueryBuilder('t');
    const rows = await keysetWhere(qb, 't', query).getMany();
    return toPage(rows, query.limit, (t) => ({ id: t.id, name: t.name, created_at: t.created_at }), byCreation);
  }

  @Patch(':id/quotas')
  @ApiBody({ schema: jsonSchema(quotasSchema) })
  async setQuotas(@Param('id', new ResourceIdPipe('tenant')) id: string, @Body(new ZodValidationPipe(quotasSchema)) body: z.output<typeof quotasSchema>) {
    const tenants = this.dataSource.getRepository(TenantEntity);
    const tenant = await tenants.findOneBy({ id });
    if (!tenant) throw notFound('tenant', id);
    const quotas = { ...tenant.quotas };
    for (const [resource, limit] of Object.entries(body) as Array<[QuotaResource, number | null | undefined]>) {
      if (limit === null) delete quotas[resource];
      else if (limit !== undefined) quotas[resource] = limit;
    }
    await tenants.update({ id }, { quotas });
    return { id, name: tenant.name, quotas };
  }

  @Post(':id/api-keys')
  @HttpCode(201)
  async issueKey(@Param('id', new ResourceIdPipe('tenant')) id: string) {
    const issued = await this.commands.execute(new IssueApiKeyCommand(id));
    if (!issued) throw notFound('tenant', id);
    return issued;
  }
}
