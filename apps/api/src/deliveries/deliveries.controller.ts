import { Controller, Get, Param, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { DELIVERY_EVENTS, deliveryStreamId } from '@tocsin/contracts';
import { DeliveryEntity } from '@tocsin/database';
import { EventStore } from '@tocsin/event-store';
import { TenantGuard, TenantId } from '../auth/guards';
import { notFound, ResourceIdPipe } from '../common/uuid-param.pipe';
import { presentDelivery } from '../endpoints/endpoint.presenter';
import { TenantScope } from '../tenants/tenant-scope';

const ATTEMPT_OUTCOMES: readonly string[] = [DELIVERY_EVENTS.AttemptSucceeded.type, DELIVERY_EVENTS.AttemptFailed.type];

@ApiTags('deliveries')
@ApiBearerAuth()
@UseGuards(TenantGuard)
@Controller('v1/deliveries')
export class DeliveriesController {
  constructor(
    private readonly scope: TenantScope,
    private readonly store: EventStore,
  ) {}

  /** The delivery with every attempt and its full event history, read from its stream. */
  @Get(':id')
  async get(@TenantId() tenantId: string, @Param('id', new ResourceIdPipe('delivery')) id: string) {
    const delivery = await this.scope.repository(DeliveryEntity, tenantId).findOneBy({ id });
    if (!delivery) throw notFound('delivery', id);
    const events = await this.store.readStream(deliveryStreamId(id));
    const started = new Map(
      events.filter((e) => e.type === DELIVERY_EVENTS.AttemptStarted.type).map((e) => [e.data.attempt as number, e.recordedAt]),
    );
    const attempts = events
      .filter((e) => ATTEMPT_OUTCOMES.includes(e.type))
      .map((e) => ({
        attempt: e.data.attempt,
        outcome: e.type === DELIVERY_EVENTS.AttemptSucceeded.type ? 'succeeded' : 'failed',
        started_at: started.get(e.data.attempt as number) ?? null,
        finished_at: e.recordedAt,
        http_status: e.data.http_status ?? null,
        duration_ms: e.data.duration_ms,
        request_bytes: e.data.request_bytes,
        response_snippet: e.data.response_snippet ?? null,
        error_class: e.data.error_class ?? null,
        error: e.data.error ?? null,
      }));
    return {
      ...presentDelivery(delivery),
      body: delivery.body,
      attempts,
      events: events.map((e) => ({ type: e.type, version: e.streamVersion, recorded_at: e.recordedAt, data: e.data })),
    };
  }
}
