import { Body, Controller, Get, Patch, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { FAILURE_LAYERS, SEVERITIES } from '@tocsin/contracts';
import { TenantSettingsEntity } from '@tocsin/database';
import { TenantGuard, TenantId } from '../auth/guards';
import { ZodValidationPipe } from '../common/zod-validation.pipe';
import { TenantScope } from '../tenants/tenant-scope';

export const tenantSettingsSchema = z.strictObject({
  /** Failure layer → severity for every monitor of the tenant; a monitor's own policy wins. */
  severity_policy: z.partialRecord(z.enum(FAILURE_LAYERS), z.enum(SEVERITIES)),
});
type TenantSettingsBody = z.output<typeof tenantSettingsSchema>;

function present(tenantId: string, row: TenantSettingsEntity | null) {
  return { tenant_id: tenantId, severity_policy: row?.severity_policy ?? {}, updated_at: row?.updated_at ?? null };
}

/** Settings of the calling key's tenant; the router reads `severity_policy` with every batch. */
@ApiTags('tenant')
@ApiBearerAuth()
@UseGuards(TenantGuard)
@Controller('v1/tenant/settings')
export class TenantSettingsController {
  constructor(private readonly scope: TenantScope) {}

  @Get()
  async get(@TenantId() tenantId: string) {
    return present(tenantId, await this.scope.repository(TenantSettingsEntity, tenantId).findOneBy({}));
  }

  @Patch()
  @ApiBody({ schema: z.toJSONSchema(tenantSettingsSchema, { io: 'input' }) as object })
  async update(@TenantId() tenantId: string, @Body(new ZodValidationPipe(tenantSettingsSchema)) body: TenantSettingsBody) {
    await this.scope.query(
      `INSERT INTO tenant_settings (tenant_id, severity_policy, updated_at) VALUES ($1, $2::jsonb, now())
       ON CONFLICT (tenant_id) DO UPDATE SET severity_policy = EXCLUDED.severity_policy, updated_at = now()
       WHERE tenant_settings.tenant_id = $1`,
      [JSON.stringify(body.severity_policy)],
    );
    return this.get(tenantId);
  }
}
