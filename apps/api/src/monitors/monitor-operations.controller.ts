import { randomUUID } from 'node:crypto';
import { BadRequestException, Body, Controller, Delete, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { IncidentEntity, MaintenancePeriodEntity, MaintenanceWindowEntity, SilenceEntity } from '@tocsin/database';
import { TenantGuard, TenantId } from '../auth/guards';
import { keysetWhere } from '../common/keyset';
import { byCreation, listQuerySchema, toPage, type ListQuery } from '../common/pagination';
import { notFound, ResourceIdPipe } from '../common/uuid-param.pipe';
import { isoDate, timeWindow, windowFields, windowStart } from '../common/time-window';
import { ZodValidationPipe } from '../common/zod-validation.pipe';
import { TenantScope } from '../tenants/tenant-scope';
import { MonitorRepository } from './monitor.repository';
import { slaFigures } from './sla';

const MonitorId = new ResourceIdPipe('monitor');
const WindowId = new ResourceIdPipe('maintenance window');
const DAY_MS = 86_400_000;

export const maintenanceWindowSchema = timeWindow(
  z.strictObject({ ...windowFields, reason: z.string().trim().min(1).max(500).optional() }),
  'a maintenance window',
  366,
);
type MaintenanceWindowBody = z.output<typeof maintenanceWindowSchema>;

export const slaQuerySchema = z
  .strictObject({ from: isoDate.optional(), to: isoDate.optional() })
  .refine((q) => !q.from || !q.to || Date.parse(q.from) < Date.parse(q.to), { message: 'from must be before to', path: ['from'] })
  .refine((q) => !q.from || !q.to || Date.parse(q.to) - Date.parse(q.from) <= 3 * 366 * DAY_MS, {
    message: 'the range spans at most three years',
    path: ['to'],
  });
type SlaQuery = z.output<typeof slaQuerySchema>;

function presentWindow(w: MaintenanceWindowEntity, now = Date.now()) {
  return {
    id: w.id,
    tenant_id: w.tenant_id,
    monitor_id: w.monitor_id,
    starts_at: w.starts_at,
    ends_at: w.ends_at,
    reason: w.reason,
    active: w.starts_at.getTime() <= now && now < w.ends_at.getTime(),
    created_at: w.created_at,
  };
}

/** Maintenance windows and the SLA ledger of one monitor. */
@ApiTags('monitors')
@ApiBearerAuth()
@UseGuards(TenantGuard)
@Controller('v1/monitors')
export class MonitorOperationsController {
  constructor(
    private readonly scope: TenantScope,
    private readonly monitors: MonitorRepository,
  ) {}

  private async requireMonitor(tenantId: string, id: string): Promise<void> {
    if (!(await this.monitors.find(tenantId, id))) throw notFound('monitor', id);
  }

  /** New incidents are suppressed for the monitor while a window is active; the SLA ledger excludes it. */
  @Post(':id/maintenance')
  @ApiBody({ schema: z.toJSONSchema(maintenanceWindowSchema, { io: 'input' }) as object })
  async addWindow(
    @TenantId() tenantId: string,
    @Param('id', MonitorId) id: string,
    @Body(new ZodValidationPipe(maintenanceWindowSchema)) body: MaintenanceWindowBody,
  ) {
    await this.requireMonitor(tenantId, id);
    const windows = this.scope.repository(MaintenanceWindowEntity, tenantId);
    const windowId = randomUUID();
    await windows.insert({
      id: windowId,
      monitor_id: id,
      starts_at: windowStart(body),
      ends_at: new Date(body.ends_at),
      reason: body.reason ?? null,
    });
    const saved = await windows.findOneBy({ id: windowId });
    if (!saved) throw notFound('maintenance window', windowId);
    return presentWindow(saved);
  }

  @Get(':id/maintenance')
  async listWindows(@TenantId() tenantId: string, @Param('id', MonitorId) id: string, @Query(new ZodValidationPipe(listQuerySchema)) query: ListQuery) {
    await this.requireMonitor(tenantId, id);
    const qb = this.scope.repository(MaintenanceWindowEntity, tenantId).createQueryBuilder('w').andWhere('w.monitor_id = :id', { id });
    return toPage(await keysetWhere(qb, 'w', query).getMany(), query.limit, (w) => presentWindow(w), byCreation);
  }

  /** Ends the active window now and drops the ones not started yet. */
  @Delete(':id/maintenance')
  @HttpCode(204)
  async endMaintenance(@TenantId() tenantId: string, @Param('id', MonitorId) id: string): Promise<void> {
    await this.requireMonitor(tenantId, id);
    await this.endWindows(tenantId, id);
  }

  @Delete(':id/maintenance/:windowId')
  @HttpCode(204)
  async endWindow(
    @TenantId() tenantId: string,
    @Param('id', MonitorId) id: string,
    @Param('windowId', WindowId) windowId: string,
  ): Promise<void> {
    await this.requireMonitor(tenantId, id);
    if (!(await this.endWindows(tenantId, id, windowId))) throw notFound('maintenance window', windowId);
  }

  /** Past windows stay as they were (the ledger already counted them); returns whether any window matched. */
  private async endWindows(tenantId: string, monitorId: string, windowId?: string): Promise<boolean> {
    const filter = `tenant_id = $1 AND monitor_id = $2 ${windowId ? 'AND id = $3' : ''}`;
    const params = windowId ? [monitorId, windowId] : [monitorId];
    const existing = await this.scope.query(`SELECT id FROM maintenance_windows WHERE ${filter}`, params);
    await this.scope.query(`DELETE FROM maintenance_windows WHERE ${filter} AND starts_at > now()`, params);
    await this.scope.query(`UPDATE maintenance_windows SET ends_at = now() WHERE ${filter} AND starts_at <= now() AND ends_at > now()`, params);
    return existing.length > 0;
  }

  /** Availability, downtime and maintenance seconds and the incidents in a range (default: the last 30 days). */
  @Get(':id/sla')
  async sla(@TenantId() tenantId: string, @Param('id', MonitorId) id: string, @Query(new ZodValidationPipe(slaQuerySchema)) query: SlaQuery) {
    await this.requireMonitor(tenantId, id);
    const now = Date.now();
    const to = query.to ? Date.parse(query.to) : now;
    const from = query.from ? Date.parse(query.from) : to - 30 * DAY_MS;
    if (from >= to) throw new BadRequestException({
      statusCode: 400,
      error: 'Bad Request',
      message: 'from: must be before to',
      details: [{ field: 'from', message: 'must be before to' }],
    });
    const range = { from, to };
    const incidents = await this.scope
      .repository(IncidentEntity, tenantId)
      .createQueryBuilder('i')
      .andWhere('i.monitor_id = :id', { id })
      .andWhere('i.started_at < :to AND (i.resolved_at IS NULL OR i.resolved_at > :from)', { from: new Date(from), to: new Date(to) })
      .orderBy('i.started_at', 'ASC')
      .getMany();
    const periods = await this.scope
      .repository(MaintenancePeriodEntity, tenantId)
      .createQueryBuilder('m')
      .andWhere('m.monitor_id = :id', { id })
      .andWhere('m.started_at < :to AND (m.ended_at IS NULL OR m.ended_at > :from)', { from: new Date(from), to: new Date(to) })
      .getMany();
    const silences = await this.scope
      .repository(SilenceEntity, tenantId)
      .createQueryBuilder('s')
      .andWhere('(s.monitor_id IS NULL OR s.monitor_id = :id)', { id })
      .andWhere('s.starts_at < :to AND s.ends_at > :from', { from: new Date(from), to: new Date(to) })
      .getMany();
    const figures = slaFigures({
      range,
      incidents: incidents.map((i) => ({
        key: i.dedup_key,
        severity: i.severity,
        from: i.started_at.getTime(),
        to: i.resolved_at?.getTime() ?? Math.min(now, to),
      })),
      maintenance: periods.map((m) => ({ from: m.started_at.getTime(), to: m.ended_at?.getTime() ?? Math.min(now, to) })),
      silences: silences.map((s) => ({ from: s.starts_at.getTime(), to: Math.min(s.ends_at.getTime(), now), severities: s.severities })),
    });
    return {
      tenant_id: tenantId,
      monitor_id: id,
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      period_seconds: figures.period_seconds,
      availability: figures.availability,
      downtime_seconds: figures.downtime_seconds,
      maintenance_seconds: figures.maintenance_seconds,
      silenced_seconds: figures.silenced_seconds,
      incidents: incidents.map((i) => ({
        dedup_key: i.dedup_key,
        status: i.status,
        severity: i.severity,
        failure_layer: i.failure_layer,
        started_at: i.started_at,
        resolved_at: i.resolved_at,
        downtime_seconds: figures.downtime_by_incident.get(i.dedup_key) ?? 0,
        silenced_seconds: figures.silenced_by_incident.get(i.dedup_key) ?? 0,
      })),
    };
  }
}
