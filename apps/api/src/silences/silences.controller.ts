import { randomUUID } from 'node:crypto';
import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { SEVERITIES } from '@tocsin/contracts';
import { SilenceEntity } from '@tocsin/database';
import { TenantGuard, TenantId } from '../auth/guards';
import { keysetWhere } from '../common/keyset';
import { byCreation, listQuerySchema, toPage } from '../common/pagination';
import { notFound, ResourceIdPipe } from '../common/uuid-param.pipe';
import { timeWindow, windowFields, windowStart } from '../common/time-window';
import { ZodValidationPipe } from '../common/zod-validation.pipe';
import { MonitorRepository } from '../monitors/monitor.repository';
import { TenantScope } from '../tenants/tenant-scope';

const SilenceId = new ResourceIdPipe('silence');
/** A silence is for an event worth forgetting for a while, not a way to turn paging off. */
const MAX_SILENCE_DAYS = 31;

export const silenceSchema = timeWindow(
  z.strictObject({
    monitor_id: z.uuid({ error: 'must be a monitor id' }).optional(),
    severities: z.array(z.enum(SEVERITIES)).min(1).max(3).optional(),
    ...windowFields,
    comment: z.string().trim().min(1).max(500).optional(),
  }),
  'a silence',
  MAX_SILENCE_DAYS,
);
type SilenceBody = z.output<typeof silenceSchema>;

const silenceListSchema = listQuerySchema.extend({
  /** `all` lists ended silences too; by default only the ones active or still to come. */
  state: z.enum(['current', 'all']).default('current'),
});
type SilenceListQuery = z.output<typeof silenceListSchema>;

function presentSilence(s: SilenceEntity, now = Date.now()) {
  return {
    id: s.id,
    tenant_id: s.tenant_id,
    monitor_id: s.monitor_id,
    severities: s.severities,
    starts_at: s.starts_at,
    ends_at: s.ends_at,
    comment: s.comment,
    active: s.starts_at.getTime() <= now && now < s.ends_at.getTime(),
    created_at: s.created_at,
  };
}

/**
 * Silences: while one is active, the alerts it matches (all the tenant's monitors or one,
 * all severities or some) are recorded as skipped deliveries with the silence named, and
 * not sent; they can be redelivered. Incidents still open and count as downtime: the SLA
 * shows the silenced part of it.
 */
@ApiTags('silences')
@ApiBearerAuth()
@UseGuards(TenantGuard)
@Controller('v1/silences')
export class SilencesController {
  constructor(
    private readonly scope: TenantScope,
    private readonly monitors: MonitorRepository,
  ) {}

  @Post()
  @ApiOperation({ summary: 'Silence pages for a monitor (or every monitor), optionally only some severities, until ends_at' })
  @ApiBody({ schema: z.toJSONSchema(silenceSchema, { io: 'input' }) as object })
  async create(@TenantId() tenantId: string, @Body(new ZodValidationPipe(silenceSchema)) body: SilenceBody) {
    if (body.monitor_id !== undefined && !(await this.monitors.find(tenantId, body.monitor_id))) throw notFound('monitor', body.monitor_id);
    const silences = this.scope.repository(SilenceEntity, tenantId);
    const id = randomUUID();
    await silences.insert({
      id,
      monitor_id: body.monitor_id ?? null,
      severities: body.severities ?? null,
      starts_at: windowStart(body),
      ends_at: new Date(body.ends_at),
      comment: body.comment ?? null,
    });
    return presentSilence(await this.require(tenantId, id));
  }

  @Get()
  async list(@TenantId() tenantId: string, @Query(new ZodValidationPipe(silenceListSchema)) query: SilenceListQuery) {
    const qb = this.scope.repository(SilenceEntity, tenantId).createQueryBuilder('s');
    if (query.state === 'current') qb.andWhere('s.ends_at > now()');
    return toPage(await keysetWhere(qb, 's', query).getMany(), query.limit, (s) => presentSilence(s), byCreation);
  }

  @Get(':id')
  async get(@TenantId() tenantId: string, @Param('id', SilenceId) id: string) {
    return presentSilence(await this.require(tenantId, id));
  }

  /** Ends an active silence now; one not started yet is dropped. An ended one stays as it was. */
  @Delete(':id')
  @HttpCode(204)
  async expire(@TenantId() tenantId: string, @Param('id', SilenceId) id: string): Promise<void> {
    await this.require(tenantId, id);
    await this.scope.query('DELETE FROM silences WHERE tenant_id = $1 AND id = $2 AND starts_at >= now()', [id]);
    await this.scope.query('UPDATE silences SET ends_at = now() WHERE tenant_id = $1 AND id = $2 AND starts_at < now() AND ends_at > now()', [id]);
  }

  private async require(tenantId: string, id: string): Promise<SilenceEntity> {
    const found = await this.scope.repository(SilenceEntity, tenantId).findOneBy({ id });
    if (!found) throw notFound('silence', id);
    return found;
  }
}
