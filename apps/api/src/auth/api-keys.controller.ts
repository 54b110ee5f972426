import { Controller, Delete, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { ApiKeyEntity } from '@tocsin/database';
import { keysetWhere } from '../common/keyset';
import { byCreation, listQuerySchema, toPage } from '../common/pagination';
import { notFound, ResourceIdPipe } from '../common/uuid-param.pipe';
import { ZodValidationPipe } from '../common/zod-validation.pipe';
import { IssueApiKeyCommand, RevokeApiKeyCommand, RotateApiKeyCommand } from '../tenants/commands/create-tenant.command';
import { TenantScope } from '../tenants/tenant-scope';
import { TenantGuard, TenantId } from './guards';

const keyListSchema = listQuerySchema.extend({ prefix: z.string().max(64).optional() });
const KeyId = new ResourceIdPipe('api key');

export function presentApiKey(k: ApiKeyEntity) {
  return { id: k.id, tenant_id: k.tenant_id, prefix: k.prefix, created_at: k.created_at, revoked_at: k.revoked_at };
}

/** The calling tenant's own keys: shown by prefix only; the full key is in the create and rotate answers alone. */
@ApiTags('api keys')
@ApiBearerAuth()
@UseGuards(TenantGuard)
@Controller('v1/api-keys')
export class ApiKeysController {
  constructor(
    private readonly commands: CommandBus,
    private readonly scope: TenantScope,
  ) {}

  @Post()
  @HttpCode(201)
  async create(@TenantId() tenantId: string) {
    const issued = await this.commands.execute(new IssueApiKeyCommand(tenantId));
    if (!issued) throw notFound('tenant', tenantId);
    return issued;
  }

  @Get()
  async list(@TenantId() tenantId: string, @Query(new ZodValidationPipe(keyListSchema)) query: z.output<typeof keyListSchema>) {
    const qb = this.scope.repository(ApiKeyEntity, tenantId).createQueryBuilder('k');
    if (query.prefix) qb.andWhere('starts_with(k.prefix, :prefix)', { prefix: query.prefix });
    const rows = await keysetWhere(qb, 'k', query).getMany();
    return toPage(rows, query.limit, presentApiKey, byCreation);
  }

  @Get(':id')
  async get(@TenantId() tenantId: string, @Param('id', KeyId) id: string) {
    const key = await this.scope.repository(ApiKeyEntity, tenantId).findOneBy({ id });
    if (!key) throw notFound('api key', id);
    return presentApiKey(key);
  }

  /** Revokes the key: the next request made with it answers 401. */
  @Delete(':id')
  @HttpCode(204)
  async revoke(@TenantId() tenantId: string, @Param('id', KeyId) id: string): Promise<void> {
    if (!(await this.commands.execute(new RevokeApiKeyCommand(tenantId, id)))) throw notFound('api key', id);
  }

  /** A new key for the same tenant; the old one is revoked at once. */
  @Post(':id/rotate')
  @HttpCode(201)
  async rotate(@TenantId() tenantId: string, @Param('id', KeyId) id: string) {
    const issued = await this.commands.execute(new RotateApiKeyCommand(tenantId, id));
    if (!issued) throw notFound('api key', id);
    return issued;
  }
}
