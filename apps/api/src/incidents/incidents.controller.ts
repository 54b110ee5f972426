import { Controller, Get, Param, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { monitorStreamId } from '@tocsin/contracts';
import { DeliveryEntity, IncidentEntity } from '@tocsin/database';
import { EventStore } from '@tocsin/event-store';
import { TenantGuard, TenantId } from '../auth/guards';
import { keysetWhere } from '../common/keyset';
import { listQuerySchema, toPage } from '../common/pagination';
import { notFound } from '../common/uuid-param.pipe';
import { ZodValidationPipe } from '../common/zod-validation.pipe';
import { presentDelivery } from '../endpoints/endpoint.presenter';
import { presentIncident } from '../monitors/monitor.presenter';
import { TenantScope } from '../tenants/tenant-scope';

const incidentQuerySchema = listQuerySchema.extend({ status: z.enum(['open', 'resolved']).optional() });

/**
 * The timeline's length: an incident has a handful of events (opened, escalated, re-alerted,
 * resolved); a flapping one that reached this many shows its first ones and says so.
 */
export const MAX_TIMELINE_EVENTS = 500;

@ApiTags('incidents')
@ApiBearerAuth()
@UseGuards(TenantGuard)
@Controller('v1/incidents')
export class IncidentsController {
  constructor(
    private readonly scope: TenantScope,
    private readonly store: EventStore,
  ) {}

  @Get()
  async list(@TenantId() tenantId: string, @Query(new ZodValidationPipe(incidentQuerySchema)) query: z.output<typeof incidentQuerySchema>) {
    const qb = this.scope.repository(IncidentEntity, tenantId).createQueryBuilder('i');
    if (query.status) qb.andWhere('i.status = :status', { status: query.status });
    const rows = await keysetWhere(qb, 'i', query, { at: 'started_at', id: 'dedup_key' }).getMany();
    return toPage(rows, query.limit, presentIncident, (i) => ({ at: i.started_at, id: i.dedup_key }));
  }

  /**
   * The incident, its timeline (its own events in the monitor's stream, read by a bounded
   * query, not the whole stream), and the deliveries it caused (the first
   * MAX_TIMELINE_EVENTS of each; `truncated` says when there were more).
   */
  @Get(':dedupKey')
  async get(@TenantId() tenantId: string, @Param('dedupKey') dedupKey: string) {
    if (dedupKey.length > 300) throw notFound('incident', dedupKey.slice(0, 40));
    const incident = await this.scope.repository(IncidentEntity, tenantId).findOneBy({ dedup_key: dedupKey });
    if (!incident) throw notFound('incident', dedupKey);
    const events = await this.store.readStreamByDedupKey(monitorStreamId(tenantId, incident.monitor_id), dedupKey, MAX_TIMELINE_EVENTS + 1);
    const deliveries = await this.scope
      .repository(DeliveryEntity, tenantId)
      .find({ where: { dedup_key: dedupKey }, order: { created_at: 'ASC' }, take: MAX_TIMELINE_EVENTS + 1 });
    return {
      ...presentIncident(incident),
      timeline: events
        .slice(0, MAX_TIMELINE_EVENTS)
        .map((e) => ({ type: e.type, sequence: e.streamVersion, recorded_at: e.recordedAt, data: e.data })),
      deliveries: deliveries.slice(0, MAX_TIMELINE_EVENTS).map(presentDelivery),
      truncated: events.length > MAX_TIMELINE_EVENTS || deliveries.length > MAX_TIMELINE_EVENTS,
    };
  }
}
