import { Inject, Logger } from '@nestjs/common';
import { CommandHandler, EventBus, type ICommandHandler } from '@nestjs/cqrs';
import { DataSource, type EntityManager } from 'typeorm';
import type { TocsinConfig } from '@tocsin/config';
import { HEADERS, monitorStreamId, topicNames } from '@tocsin/contracts';
import {
  enqueueOutbox,
  EventStore,
  freshRecords,
  markProcessedMany,
  storeOffset,
  type NewEvent,
  type OutboxMessage,
} from '@tocsin/event-store';
import { TOCSIN_CONFIG } from '@tocsin/runtime';
import { alertFromEvent, alertOutboxMessage } from '../../incidents/alert-from-event';
import { projectIncident } from '../../incidents/incident.projection';
import { IncidentChanged } from '../../incidents/incident-changed.event';
import { recordProbe, type MonitorSettings, type MonitorState } from '../../monitors/monitor.aggregate';
import { MonitorRepository } from '../../monitors/monitor.repository';
import { parseProbeRecord } from '../parse-probe-record';
import type { ConsumedBatch, ConsumedRecord } from '@tocsin/kafka';
import { RecordProbeBatchCommand, type BatchOutcome } from './record-probe-batch.command';

interface Working {
  readonly settings: MonitorSettings;
  readonly baseVersion: number;
  state: MonitorState;
  pending: Array<NewEvent & { causationId: string }>;
}

export class StreamConflictError extends Error {
  override readonly name = 'StreamConflictError';
}

export const ROUTER_GROUP = (namespace: string) => `${namespace}tocsin.severity-router`;

@CommandHandler(RecordProbeBatchCommand)
export class RecordProbeBatchHandler implements ICommandHandler<RecordProbeBatchCommand, BatchOutcome> {
  private readonly logger = new Logger(RecordProbeBatchHandler.name);
  private readonly group: string;
  private readonly topics;

  constructor(
    private readonly dataSource: DataSource,
    private readonly store: EventStore,
    private readonly monitors: MonitorRepository,
    private readonly eventBus: EventBus,
    @Inject(TOCSIN_CONFIG) config: TocsinConfig,
  ) {
    this.group = ROUTER_GROUP(config.TOCSIN_TOPIC_NAMESPACE);
    this.topics = topicNames(config.TOCSIN_TOPIC_NAMESPACE);
  }

  async execute({ batch }: RecordProbeBatchCommand): Promise<BatchOutcome> {
    const changed: IncidentChanged[] = [];
    const scope = { group: this.group, clusterId: batch.clusterId, topic: batch.topic, partition: batch.partition };
    const outcome = await this.dataSource.transaction(async (manager) => {
      const { fresh, replayed, staleOffset } = await freshRecords(manager, scope, batch.records, batch.highWatermark);
      if (staleOffset !== undefined) {
        this.logger.warn(`${batch.topic}[${batch.partition}]: stored offset ${staleOffset} is past the end (${batch.highWatermark}); the topic was re-created, starting over`);
      }
      const result = await this.applyRecords(manager, batch, fresh, changed);
      const last = batch.records.at(-1);
      if (last) await storeOffset(manager, scope, BigInt(last.offset) + 1n, staleOffset !== undefined);
      return { ...result, replayed };
    });
    changed.forEach((event) => this.eventBus.publish(event));
    return outcome;
  }

  private async applyRecords(
    manager: EntityManager,
    batch: ConsumedBatch,
    fresh: readonly ConsumedRecord[],
    changed: IncidentChanged[],
  ): Promise<Omit<BatchOutcome, 'replayed'>> {
    const working = new Map<string, Working>();
    const outbox: OutboxMessage[] = [];
    let applied = 0;
    let duplicates = 0;
    let rejected = 0;

    const parsed = fresh.map((record) => ({ record, parsed: parseProbeRecord(record) }));
    const firstSeen = await markProcessedMany(
      manager,
      this.group,
      parsed.flatMap(({ parsed: p }) => (p.ok ? [p.probe.event_id] : [])),
    );
    for (const { record, parsed: result } of parsed) {
      if (!result.ok) {
        rejected++;
        outbox.push(this.deadLetter(batch, record, result.reason));
        continue;
      }
      const probe = result.probe;
      // Each id counts once, even when a batch carries it twice.
      if (!firstSeen.delete(probe.event_id)) {
        duplicates++;
        continue;
      }
      const monitor = await this.workingCopy(manager, working, probe.tenant_id, probe.monitor_id);
      if (!monitor) {
        rejected++;
        outbox.push(this.deadLetter(batch, record, `unknown monitor "${probe.monitor_id}" for tenant "${probe.tenant_id}"`));
        continue;
      }
      const decision = recordProbe(monitor.state, probe, monitor.settings);
      monitor.state = decision.state;
      monitor.pending.push(...decision.events.map((e) => ({ ...e, causationId: probe.event_id })));
      applied++;
    }

    let alerts = 0;
    for (const monitor of new Set(working.values())) {
      const { tenantId, monitorId } = monitor.settings;
      for (const [index, event] of monitor.pending.entries()) {
        const result = await this.store.append(
          manager,
          monitorStreamId(tenantId, monitorId),
          monitor.baseVersion + index,
          [event],
          { tenant_id: tenantId, causation_id: event.causationId, correlation_id: event.causationId },
        );
        if (!result.ok) throw new StreamConflictError(`monitor stream ${monitorId} moved to ${result.actualVersion}`);
        for (const storedEvent of result.events) {
          await projectIncident(manager, tenantId, monitorId, storedEvent);
          const alert = alertFromEvent(storedEvent, tenantId, monitorId);
          if (alert) {
            outbox.push(alertOutboxMessage(this.topics.alerts, alert));
            changed.push(new IncidentChanged(alert));
            alerts++;
          }
        }
      }
      await this.monitors.saveSnapshot(manager, monitor.settings, monitor.state);
    }
    await enqueueOutbox(manager, outbox);
    return { applied, duplicates, rejected, alerts };
  }

  private async workingCopy(
    manager: EntityManager,
    working: Map<string, Working>,
    tenantId: string,
    monitorRef: string,
  ): Promise<Working | null> {
    const cacheKey = `${tenantId}:${monitorRef}`;
    const cached = working.get(cacheKey);
    if (cached) return cached;
    const loaded = await this.monitors.load(manager, tenantId, monitorRef);
    if (!loaded) return null;
    const byId = `${tenantId}:${loaded.settings.monitorId}`;
    const existing = working.get(byId);
    if (existing) {
      working.set(cacheKey, existing);
      return existing;
    }
    const copy: Working = { settings: loaded.settings, baseVersion: loaded.state.version, state: loaded.state, pending: [] };
    working.set(byId, copy);
    working.set(cacheKey, copy);
    return copy;
  }

  private deadLetter(batch: ConsumedBatch, record: ConsumedRecord, reason: string): OutboxMessage {
    this.logger.warn(`dead-lettering ${batch.topic}[${batch.partition}]@${record.offset}: ${reason}`);
    return {
      topic: this.topics.probeResultsDlq,
      key: record.key ?? '',
      value: record.value?.toString('utf8') ?? '',
      headers: {
        ...record.headers,
        [HEADERS.dlqReason]: reason,
        [HEADERS.dlqSourceTopic]: batch.topic,
        [HEADERS.dlqSourcePartition]: String(batch.partition),
        [HEADERS.dlqSourceOffset]: record.offset,
      },
    };
  }
}
