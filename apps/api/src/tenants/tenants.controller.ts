import { Body, Controller, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiBody, ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { TenantEntity } from '@tocsin/database';
import { AdminGuard } from '../auth/guards';
import { byCreation, listQuerySchema, toPage, type ListQuery } from '../common/pagination';
import { notFound, ResourceIdPipe } from '../common/uuid-param.pipe';
import { ZodValidationPipe } from '../common/zod-validation.pipe';
import { CreateTenantCommand, IssueApiKeyCommand } from './commands/create-tenant.command';
import { keysetWhere } from '../common/keyset';
import { jsonSchema } from '../openapi/document';

const createTenantSchema = z.strictObject({ name: z.string().trim().min(1).max(200) });

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

  @Post(':id/api-keys')
  @HttpCode(201)
  async issueKey(@Param('id', new ResourceIdPipe('tenant')) id: string) {
    const issued = await this.commands.execute(new IssueApiKeyCommand(id));
    if (!issued) throw notFound('tenant', id);
    return issued;
  }
}
