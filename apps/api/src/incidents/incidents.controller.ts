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

  /** The incident, its timeline from the monitor's event stream, and the deliveries it caused. */
  @Get(':dedupKey')
  async get(@TenantId() tenantId: string, @Param('dedupKey') dedupKey: string) {
    const incident = await this.scope.repository(IncidentEntity, tenantId).findOneBy({ dedup_key: dedupKey });
    if (!incident) throw notFound('incident', dedupKey);
    const events = await this.store.readStream(monitorStreamId(tenantId, incident.monitor_id));
    const deliveries = await this.scope
      .repository(DeliveryEntity, tenantId)
      .find({ where: { dedup_key: dedupKey }, order: { created_at: 'ASC' } });
    return {
      ...presentIncident(incident),
      timeline: events
        .filter((e) => e.data.dedup_key === dedupKey)
        .map((e) => ({ type: e.type, sequence: e.streamVersion, recorded_at: e.recordedAt, data: e.data })),
      deliveries: deliveries.map(presentDelivery),
    };
  }
}
