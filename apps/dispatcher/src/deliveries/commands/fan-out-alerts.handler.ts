import { Inject, Logger } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { DataSource } from 'typeorm';
import type { TocsinConfig } from '@tocsin/config';
import { alertEventSchema, describeIssues, parseWith, type AlertEvent } from '@tocsin/contracts';
import type { EndpointEntity } from '@tocsin/database';
import { asFallbackSource, deliveryId, enqueueDeliveries, p1Fallback, type NewDelivery } from '@tocsin/delivery-queue';
import { freshRecords, markProcessedMany, storeOffset } from '@tocsin/event-store';
import { SpanKind, TOCSIN_CONFIG, Tracing, type SpanGroup } from '@tocsin/runtime';
import { endpointMatches } from '../../endpoints/endpoint-matcher';
import { inhibitions } from '../inhibition';
import { loadSilences, silenceFor } from '../silences';
import { webhookBody } from '../webhook-body';
import { FanOutAlertsCommand, type FanOutOutcome } from './fan-out-alerts.command';

export const DISPATCHER_GROUP = (namespace: string) => `${namespace}tocsin.dispatcher`;

@CommandHandler(FanOutAlertsCommand)
export class FanOutAlertsHandler implements ICommandHandler<FanOutAlertsCommand, FanOutOutcome> {
  private readonly logger = new Logger(FanOutAlertsHandler.name);
  private readonly group: string;

  constructor(
    private readonly dataSource: DataSource,
    @Inject(TOCSIN_CONFIG) private readonly config: TocsinConfig,
    private readonly tracing: Tracing,
  ) {
    this.group = DISPATCHER_GROUP(config.TOCSIN_TOPIC_NAMESPACE);
  }

  /** The whole batch in a handful of statements: ids marked, endpoints read once, deliveries created together. */
  async execute({ batch }: FanOutAlertsCommand): Promise<FanOutOutcome> {
    const { topic, partition, records } = batch;
    const scope = { group: this.group, clusterId: batch.clusterId, topic, partition };
    // A span per alert fanned out, under the router's; its deliveries' attempts go under it.
    const spans = this.tracing.group();
    return spans.endWith(this.dataSource.transaction(async (manager) => {
      const { fresh, replayed: skipped, staleOffset } = await freshRecords(manager, scope, records, batch.highWatermark);
      if (staleOffset !== undefined) {
        this.logger.warn(`${topic}[${partition}]: stored offset ${staleOffset} is past the end (${batch.highWatermark}); the topic was re-created, starting over`);
      }
      let invalid = 0;
      const alerts: AlertEvent[] = [];
      const headersOf = new Map<AlertEvent, Readonly<Record<string, string>>>();
      for (const record of fresh) {
        const parsed = parseAlert(record.value);
        if (parsed.ok) {
          alerts.push(parsed.value);
          headersOf.set(parsed.value, record.headers);
        } else {
          // Alerts come only from the router's outbox; a bad one is a bug to see, not to retry forever.
          invalid++;
          this.logger.error(`skipping invalid alert ${topic}[${partition}]@${record.offset}: ${parsed.reason}`);
        }
      }
      const firstSeen = await markProcessedMany(manager, this.group, alerts.map((a) => a.event_id));
      const seen = new Set<string>();
      const todo = alerts.filter((a) => firstSeen.has(a.event_id) && !seen.has(a.event_id) && seen.add(a.event_id));
      const tenantIds = [...new Set(todo.map((a) => a.tenant_id))].filter(isUuid);
      const endpoints: EndpointEntity[] =
        todo.length === 0 ? [] : await manager.query('SELECT * FROM endpoints WHERE tenant_id = ANY($1::uuid[]) ORDER BY created_at', [tenantIds]);
      const silences = await loadSilences(manager, todo, tenantIds);
      const inhibitedBy = await inhibitions(manager, todo);
      const deliveries: NewDelivery[] = [];
      for (const alert of todo) {
        const body = webhookBody(alert, this.config.TOCSIN_DASHBOARD_URL);
        // A disabled endpoint gets nothing, but for a P1 it names a fallback for: that is recorded, and handed over.
        const matching = endpoints.filter(
          (e) => endpointMatches(e, alert) || (e.status === 'disabled' && e.fallback_endpoint_id !== null && alert.severity === 'P1' && endpointMatches({ ...e, status: 'active' }, alert)),
        );
        const traceparent = matching.length > 0 ? this.traceFanOut(alert, headersOf.get(alert)!, matching.length, spans) : undefined;
        const silence = silenceFor(alert, silences);
        const inhibitor = inhibitedBy.get(alert.event_id);
        // Silenced or inhibited on purpose: recorded and redeliverable, but not sent, and no fallback.
        const hushed = silence ? `silenced by ${silence.id}` : inhibitor ? `inhibited by ${inhibitor}` : undefined;
        for (const endpoint of matching) {
          const delivery: NewDelivery = {
            id: deliveryId(alert.event_id, endpoint.id),
            tenantId: alert.tenant_id,
            endpointId: endpoint.id,
            alertEventId: alert.event_id,
            event: alert.event,
            dedupKey: alert.dedup_key,
            sequence: alert.sequence,
            body,
            traceparent: traceparent ?? null,
          };
          if (hushed !== undefined) {
            deliveries.push({ ...delivery, skipReason: hushed });
            continue;
          }
          if (endpoint.status !== 'paused' && endpoint.status !== 'disabled') {
            deliveries.push(delivery);
            continue;
          }
          // A paused (or disabled) endpoint's P1 goes out by its fallback, if it names one.
          const skipReason = `endpoint ${endpoint.status}`;
          const fallback = p1Fallback(asFallbackSource(delivery), endpoint, skipReason);
          deliveries.push({ ...delivery, skipReason, ...(fallback ? { handedOver: fallback.event } : {}) });
          if (fallback) deliveries.push(fallback.delivery);
        }
      }
      const created = await enqueueDeliveries(manager, deliveries);
      const last = records.at(-1);
      if (last) await storeOffset(manager, scope, BigInt(last.offset) + 1n, staleOffset !== undefined);
      return { created: created.length, replayed: skipped + (alerts.length - todo.length), invalid };
    }));
  }

  private traceFanOut(alert: AlertEvent, headers: Readonly<Record<string, string>>, endpoints: number, spans: SpanGroup): string | undefined {
    return spans.start('fan out alert', {
      parent: headers,
      kind: SpanKind.CONSUMER,
      attributes: { 'tocsin.tenant_id': alert.tenant_id, 'tocsin.event': alert.event, 'tocsin.dedup_key': alert.dedup_key, 'tocsin.endpoints': endpoints },
    });
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const isUuid = (s: string) => UUID.test(s);

function parseAlert(value: Buffer | null) {
  try {
    const parsed = parseWith(alertEventSchema, JSON.parse(value?.toString('utf8') ?? ''));
    return parsed.ok ? parsed : { ok: false as const, reason: describeIssues(parsed.issues) };
  } catch {
    return { ok: false as const, reason: 'value is not valid JSON' };
  }
}
