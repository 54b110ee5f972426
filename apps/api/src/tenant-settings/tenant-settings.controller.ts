import { Body, Controller, Get, Patch, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { FAILURE_LAYERS, SEVERITIES } from '@tocsin/contracts';
import { TenantSettingsEntity } from '@tocsin/database';
import { TenantGuard, TenantId } from '../auth/guards';
import { ZodValidationPipe } from '../common/zod-validation.pipe';
import { TenantScope } from '../tenants/tenant-scope';

export const tenantSettingsSchema = z
  .strictObject({
    /** Failure layer → severity for every monitor of the tenant; a monitor's own policy wins. */
    severity_policy: z.partialRecord(z.enum(FAILURE_LAYERS), z.enum(SEVERITIES)).optional(),
    /** While one monitor's transport outage of a host is open, the others on that host page nobody. */
    inhibit_by_host: z.boolean().optional(),
  })
  .refine((b) => b.severity_policy !== undefined || b.inhibit_by_host !== undefined, { message: 'give severity_policy, inhibit_by_host or both' });
type TenantSettingsBody = z.output<typeof tenantSettingsSchema>;

function present(tenantId: string, row: TenantSettingsEntity | null) {
  return { tenant_id: tenantId, severity_policy: row?.severity_policy ?? {}, inhibit_by_host: row?.inhibit_by_host ?? false, updated_at: row?.updated_at ?? null };
}

/** Settings of the calling key's tenant; the router reads `severity_policy` with every batch, the dispatcher `inhibit_by_host`. */
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
      `INSERT INTO tenant_settings (tenant_id, severity_policy, inhibit_by_host, updated_at)
       VALUES ($1, COALESCE($2::jsonb, '{}'), COALESCE($3::boolean, false), now())
       ON CONFLICT (tenant_id) DO UPDATE SET severity_policy = COALESCE($2::jsonb, tenant_settings.severity_policy),
                                             inhibit_by_host = COALESCE($3::boolean, tenant_settings.inhibit_by_host), updated_at = now()
       WHERE tenant_settings.tenant_id = $1`,
      [body.severity_policy === undefined ? null : JSON.stringify(body.severity_policy), body.inhibit_by_host ?? null],
    );
    return this.get(tenantId);
  }
}
