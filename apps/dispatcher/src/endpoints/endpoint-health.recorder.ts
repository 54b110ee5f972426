import { Inject, Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { TocsinConfig } from '@tocsin/config';
import {
  ENDPOINT_EVENTS,
  endpointStreamId,
  type BreakerOpenedData,
  type EndpointDisabledData,
} from '@tocsin/contracts';
import type { BreakerState, EndpointStatus } from '@tocsin/database';
import { appendToStreams, enqueueNotices, type OperationalNotice, type StreamAppend } from '@tocsin/delivery-queue';
import type { NewEvent } from '@tocsin/event-store';
import { TOCSIN_CONFIG } from '@tocsin/runtime';
import { foldHealth, type HealthState, type HealthTransition } from './endpoint-health';

/** One finished attempt, as the endpoint's health projection takes it. */
export interface EndpointAttempt {
  readonly endpointId: string;
  readonly tenantId: string;
  readonly deliveryId: string;
  readonly at: Date;
  readonly succeeded: boolean;
  readonly retriable: boolean;
  /** A 2xx slower than TOCSIN_BREAKER_SLOW_MS. */
  readonly slow?: boolean;
  /** Set by a 410 Gone: the reason the endpoint is disabled. */
  readonly disable: string | null;
}

interface Row {
  id: string;
  tenant_id: string;
  status: EndpointStatus;
  delivered: string | null;
  failed: string | null;
  last_delivery_at: Date | null;
  last_attempt_at: Date | null;
  recent_outcomes: string | null;
  breaker_state: BreakerState | null;
  breaker_failures: number | null;
  breaker_opened_at: Date | null;
  breaker_retry_at: Date | null;
  breaker_opens: number | null;
}

/**
 * Keeps endpoint_stats (the projection of attempt events: totals, recent outcomes,
 * breaker) and the automatic statuses in step with each batch of outcomes, in the same
 * transaction. It locks the endpoints' rows, in id order, as every writer of an
 * endpoint's stream does.
 */
@Injectable()
export class EndpointHealthRecorder {
  private readonly logger = new Logger(EndpointHealthRecorder.name);

  constructor(@Inject(TOCSIN_CONFIG) private readonly config: TocsinConfig) {}

  async record(manager: EntityManager, attempts: readonly EndpointAttempt[]): Promise<void> {
    if (attempts.length === 0) return;
    const ids = [...new Set(attempts.map((a) => a.endpointId))].sort();
    const rows: Row[] = await manager.query(
      `SELECT e.id, e.tenant_id, e.status, s.delivered, s.failed, s.last_delivery_at, s.last_attempt_at, s.recent_outcomes,
              s.breaker_state, s.breaker_failures, s.breaker_opened_at, s.breaker_retry_at, s.breaker_opens
       FROM endpoints e LEFT JOIN endpoint_stats s ON s.endpoint_id = e.id
       WHERE e.id = ANY($1::uuid[]) ORDER BY e.id FOR UPDATE OF e`,
      [ids],
    );
    const policy = { breakerThreshold: this.config.TOCSIN_BREAKER_THRESHOLD, breakerCooldownMs: this.config.TOCSIN_BREAKER_COOLDOWN_MS };
    const states: Array<{ row: Row; state: HealthState }> = [];
    const statusChanges: Array<{ id: string; status: EndpointStatus }> = [];
    const streams: Array<{ row: Row; events: NewEvent[] }> = [];
    for (const row of rows) {
      const mine = attempts.filter((a) => a.endpointId === row.id).sort((a, b) => a.at.getTime() - b.at.getTime());
      const folded = foldHealth(toState(row), row.status, mine, policy);
      states.push({ row, state: folded.state });
      const events = folded.transitions.map((t) => transitionEvent(row.id, t));
      let status = folded.status;
      const gone = mine.find((a) => a.disable !== null);
      if (gone && status !== 'disabled') {
        status = 'disabled';
        const data: EndpointDisabledData = { endpoint_id: row.id, reason: gone.disable!, delivery_id: gone.deliveryId };
        events.push({ ...ENDPOINT_EVENTS.EndpointDisabled, data });
      }
      if (status !== row.status) statusChanges.push({ id: row.id, status });
      if (events.length > 0) {
        streams.push({ row, events });
        this.logger.log(`endpoint ${row.id}: ${events.map((e) => e.type).join(', ')}`);
      }
    }
    await this.saveStates(manager, states);
    if (statusChanges.length > 0) {
      await manager.query(
        `UPDATE endpoints e SET status = u.status, updated_at = now()
         FROM unnest($1::uuid[], $2::text[]) AS u(id, status) WHERE e.id = u.id`,
        [statusChanges.map((c) => c.id), statusChanges.map((c) => c.status)],
      );
    }
    if (streams.length === 0) return;
    const appended = await this.appendEndpointEvents(manager, streams);
    await enqueueNotices(manager, appended.flatMap(noticesOf));
  }

  private async saveStates(manager: EntityManager, states: ReadonlyArray<{ row: Row; state: HealthState }>): Promise<void> {
    if (states.length === 0) return;
    const col = <T>(f: (x: { row: Row; state: HealthState }) => T) => states.map(f);
    await manager.query(
      `INSERT INTO endpoint_stats (endpoint_id, tenant_id, delivered, failed, last_delivery_at, last_attempt_at, recent_outcomes,
                                   breaker_state, breaker_failures, breaker_opened_at, breaker_retry_at, breaker_opens)
       SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::bigint[], $4::bigint[], $5::timestamptz[], $6::timestamptz[], $7::text[],
                            $8::text[], $9::int[], $10::timestamptz[], $11::timestamptz[], $12::int[])
       ON CONFLICT (endpoint_id) DO UPDATE SET
         delivered = EXCLUDED.delivered, failed = EXCLUDED.failed, last_delivery_at = EXCLUDED.last_delivery_at,
         last_attempt_at = EXCLUDED.last_attempt_at, recent_outcomes = EXCLUDED.recent_outcomes,
         breaker_state = EXCLUDED.breaker_state, breaker_failures = EXCLUDED.breaker_failures,
         breaker_opened_at = EXCLUDED.breaker_opened_at, breaker_retry_at = EXCLUDED.breaker_retry_at,
         breaker_opens = EXCLUDED.breaker_opens`,
      [
        col((x) => x.row.id),
        col((x) => x.row.tenant_id),
        col((x) => x.state.delivered),
        col((x) => x.state.failed),
        col((x) => x.state.lastDeliveryAt),
        col((x) => x.state.lastAttemptAt),
        col((x) => x.state.recent),
        col((x) => x.state.breakerState),
        col((x) => x.state.breakerFailures),
        col((x) => x.state.breakerOpenedAt),
        col((x) => x.state.breakerRetryAt),
        col((x) => x.state.breakerOpens),
      ],
    );
  }

  private async appendEndpointEvents(manager: EntityManager, streams: ReadonlyArray<{ row: Row; events: NewEvent[] }>): Promise<StreamAppend[]> {
    const streamIds = streams.map((s) => endpointStreamId(s.row.id));
    const versions: Array<{ stream_id: string; v: number }> = await manager.query(
      'SELECT stream_id, max(stream_version)::int AS v FROM events WHERE stream_id = ANY($1::text[]) GROUP BY stream_id',
      [streamIds],
    );
    const byStream = new Map(versions.map((v) => [v.stream_id, v.v]));
    const appends: StreamAppend[] = streams.map((s) => ({
      streamId: endpointStreamId(s.row.id),
      afterVersion: byStream.get(endpointStreamId(s.row.id)) ?? 0,
      events: s.events,
      metadata: { tenant_id: s.row.tenant_id },
    }));
    await appendToStreams(manager, appends);
    return appends;
  }
}

const NOTICE_OF: Readonly<Record<string, OperationalNotice['type']>> = {
  [ENDPOINT_EVENTS.EndpointDegraded.type]: 'endpoint.degraded',
  [ENDPOINT_EVENTS.EndpointRecovered.type]: 'endpoint.recovered',
  [ENDPOINT_EVENTS.EndpointDisabled.type]: 'endpoint.disabled',
};

/** The operational notices an endpoint's appended events make: degraded, recovered, disabled. */
function noticesOf(append: StreamAppend): OperationalNotice[] {
  const tenantId = String(append.metadata?.tenant_id);
  return append.events.flatMap((event, i) => {
    const type = NOTICE_OF[event.type];
    if (!type) return [];
    const data = event.data as { endpoint_id: string; failed?: number; of?: number; reason?: string; delivery_id?: string };
    const details =
      type === 'endpoint.degraded'
        ? { reason: `${data.failed} of the latest ${data.of} attempts failed`, failed: data.failed, of: data.of }
        : type === 'endpoint.disabled'
          ? { reason: data.reason, delivery_id: data.delivery_id }
          : { reason: 'the latest attempts succeeded' };
    return [{ type, tenantId, endpointId: data.endpoint_id, sourceStream: append.streamId, sourceVersion: append.afterVersion + i + 1, occurredAt: new Date(), details }];
  });
}

function toState(row: Row): HealthState {
  return {
    delivered: Number(row.delivered ?? 0),
    failed: Number(row.failed ?? 0),
    lastDeliveryAt: row.last_delivery_at,
    lastAttemptAt: row.last_attempt_at,
    recent: row.recent_outcomes ?? '',
    breakerState: row.breaker_state ?? 'closed',
    breakerFailures: row.breaker_failures ?? 0,
    breakerOpenedAt: row.breaker_opened_at,
    breakerRetryAt: row.breaker_retry_at,
    breakerOpens: row.breaker_opens ?? 0,
  };
}

function transitionEvent(endpointId: string, t: HealthTransition): NewEvent {
  switch (t.kind) {
    case 'degraded':
      return { ...ENDPOINT_EVENTS.EndpointDegraded, data: { endpoint_id: endpointId, failed: t.failed, of: t.of } };
    case 'recovered':
      return { ...ENDPOINT_EVENTS.EndpointRecovered, data: { endpoint_id: endpointId } };
    case 'breaker_opened': {
      const data: BreakerOpenedData = { endpoint_id: endpointId, consecutive_failures: t.consecutiveFailures, retry_at: t.retryAt.toISOString() };
      return { ...ENDPOINT_EVENTS.BreakerOpened, data };
    }
    case 'breaker_closed':
      return { ...ENDPOINT_EVENTS.BreakerClosed, data: { endpoint_id: endpointId } };
  }
}
