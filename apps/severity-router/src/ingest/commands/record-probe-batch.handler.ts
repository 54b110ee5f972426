import { createHash } from 'node:crypto';
import { Inject, Logger } from '@nestjs/common';
import { CommandHandler, EventBus, type ICommandHandler } from '@nestjs/cqrs';
import { DataSource, type EntityManager } from 'typeorm';
import type { TocsinConfig } from '@tocsin/config';
import { monitorStreamId, storableText, tenantOfTopic, topicNames, traceIdOf, type ProbeResult } from '@tocsin/contracts';
import {
  enqueueOutbox,
  EventStore,
  freshRecords,
  isDataError,
  storeOffset,
  type OutboxMessage,
  type StreamAppend,
} from '@tocsin/event-store';
import { deadLetter, type ConsumedBatch, type ConsumedRecord } from '@tocsin/kafka';
import { SpanKind, TOCSIN_CONFIG, Tracing, type SpanGroup } from '@tocsin/runtime';
import { alertFromEvent, alertOutboxMessage } from '../../incidents/alert-from-event';
import { IncidentChanged } from '../../incidents/incident-changed.event';
import { recordProbe, type MonitorEvent, type MonitorSettings, type MonitorState } from '../../monitors/monitor.aggregate';
import { MonitorRepository, refKey } from '../../monitors/monitor.repository';
import { projectMonitorEvents } from '../../projections/monitor.projections';
import { parseProbeRecord } from '../parse-probe-record';
import { RecordProbeBatchCommand, type BatchOutcome } from './record-probe-batch.command';

interface Working {
  readonly settings: MonitorSettings;
  readonly baseVersion: number;
  readonly initial: MonitorState;
  state: MonitorState;
  pending: Array<{ event: MonitorEvent; causationId: string; traceparent: string | undefined }>;
}

export class StreamConflictError extends Error {
  override readonly name = 'StreamConflictError';
}

export const ROUTER_GROUP = (namespace: string) => `${namespace}tocsin.severity-router`;

const NO_OUTCOME: BatchOutcome = { applied: 0, replayed: 0, duplicates: 0, rejected: 0, alerts: 0 };

function addOutcomes(a: BatchOutcome, b: BatchOutcome): BatchOutcome {
  return {
    applied: a.applied + b.applied,
    replayed: a.replayed + b.replayed,
    duplicates: a.duplicates + b.duplicates,
    rejected: a.rejected + b.rejected,
    alerts: a.alerts + b.alerts,
  };
}

/**
 * Applies a partition's batch in one transaction with a fixed number of statements,
 * however many records it holds: read the stored offset, load every monitor named (with
 * snapshots), then one events insert, one snapshot upsert, one outbox insert and the new
 * offset. Projections add a statement per incident transition, which are rare.
 *
 * A batch holds many tenants' records, so a record Postgres refuses (a value too large,
 * text it cannot store that slipped past the edge) must not fail the others: when the
 * transaction fails because of data, the batch is split in halves, each applied in its own
 * transaction in offset order, until the record at fault stands alone and goes to the DLQ
 * with the database's reason. Errors a retry cures (a lost connection, a stream that moved)
 * still fail the whole batch, and kafkajs hands it back.
 */
@CommandHandler(RecordProbeBatchCommand)
export class RecordProbeBatchHandler implements ICommandHandler<RecordProbeBatchCommand, BatchOutcome> {
  private readonly logger = new Logger(RecordProbeBatchHandler.name);
  private readonly group: string;
  private readonly topics;
  private readonly reorderToleranceMs: number;
  private readonly maxSkewMs: number;
  private readonly namespace: string;

  constructor(
    private readonly dataSource: DataSource,
    private readonly store: EventStore,
    private readonly monitors: MonitorRepository,
    private readonly eventBus: EventBus,
    @Inject(TOCSIN_CONFIG) config: TocsinConfig,
    private readonly tracing: Tracing,
  ) {
    this.group = ROUTER_GROUP(config.TOCSIN_TOPIC_NAMESPACE);
    this.topics = topicNames(config.TOCSIN_TOPIC_NAMESPACE);
    this.reorderToleranceMs = config.TOCSIN_REORDER_TOLERANCE_MS;
    this.maxSkewMs = config.TOCSIN_MAX_CLOCK_SKEW_SECONDS * 1000;
    this.namespace = config.TOCSIN_TOPIC_NAMESPACE;
  }

  async execute({ batch }: RecordProbeBatchCommand): Promise<BatchOutcome> {
    const changed: IncidentChanged[] = [];
    const outcome = await this.applyIsolating(batch, batch.records, changed);
    changed.forEach((event) => this.eventBus.publish(event));
    return outcome;
  }

  /** Applies `records` (a run of the batch, in offset order), splitting it when its data fails. */
  private async applyIsolating(batch: ConsumedBatch, records: readonly ConsumedRecord[], changed: IncidentChanged[]): Promise<BatchOutcome> {
    try {
      return await this.applyInTransaction(batch, records, changed);
    } catch (err) {
      if (!isDataError(err)) throw err;
      const first = records[0]!;
      if (records.length === 1) {
        const reason = storableText(`could not be stored: ${(err as Error).message}`, 1024);
        this.logger.warn(`${batch.topic}[${batch.partition}]@${first.offset} ${reason}`);
        return this.applyInTransaction(batch, records, changed, reason);
      }
      this.logger.warn(
        `${batch.topic}[${batch.partition}] records ${first.offset}..${records.at(-1)!.offset} failed on their data (${(err as Error).message}); isolating the record at fault`,
      );
      const half = Math.ceil(records.length / 2);
      const left = await this.applyIsolating(batch, records.slice(0, half), changed);
      return addOutcomes(left, await this.applyIsolating(batch, records.slice(half), changed));
    }
  }

  /**
   * One transaction: the fresh records' effects and the offset past the last of them. With
   * `deadLetterReason`, the records are not applied but copied to the DLQ with it.
   */
  private async applyInTransaction(
    batch: ConsumedBatch,
    records: readonly ConsumedRecord[],
    changed: IncidentChanged[],
    deadLetterReason?: string,
  ): Promise<BatchOutcome> {
    if (records.length === 0) return NO_OUTCOME;
    const scope = { group: this.group, clusterId: batch.clusterId, topic: batch.topic, partition: batch.partition };
    const committed: IncidentChanged[] = [];
    // A span per record that changed something; they end when the transaction does.
    const spans = this.tracing.group();
    const outcome = await spans.endWith(this.dataSource.transaction(async (manager) => {
      committed.length = 0;
      const { fresh, replayed, staleOffset } = await freshRecords(manager, scope, records, batch.highWatermark);
      if (staleOffset !== undefined) {
        this.logger.warn(`${batch.topic}[${batch.partition}]: stored offset ${staleOffset} is past the end (${batch.highWatermark}); the topic was re-created, starting over`);
      }
      let result: Omit<BatchOutcome, 'replayed'>;
      if (deadLetterReason === undefined) {
        result = await this.applyRecords(manager, batch, fresh, committed, spans);
      } else {
        await enqueueOutbox(manager, fresh.map((record) => this.deadLetter(batch, record, deadLetterReason)));
        result = { ...NO_OUTCOME, rejected: fresh.length };
      }
      await storeOffset(manager, scope, BigInt(records.at(-1)!.offset) + 1n, staleOffset !== undefined);
      return { ...result, replayed };
    }));
    changed.push(...committed);
    return outcome;
  }

  private async applyRecords(
    manager: EntityManager,
    batch: ConsumedBatch,
    fresh: readonly ConsumedRecord[],
    changed: IncidentChanged[],
    spans: SpanGroup,
  ): Promise<Omit<BatchOutcome, 'replayed'>> {
    const outbox: OutboxMessage[] = [];
    /** The transition span of each result that made events, for the alerts those events make. */
    const traceOf = new Map<string, string>();
    let applied = 0;
    let duplicates = 0;
    let rejected = 0;

    const topicTenant = tenantOfTopic(this.namespace, batch.topic);
    const limits = { nowMs: Date.now(), maxSkewMs: this.maxSkewMs, ...(topicTenant === undefined ? {} : { topicTenant }) };
    const parsed = fresh.map((record) => ({ record, parsed: parseProbeRecord(record, limits) }));
    const loaded = await this.monitors.loadMany(
      manager,
      parsed.flatMap(({ parsed: p }) => (p.ok ? [{ tenantId: p.probe.tenant_id, ref: p.probe.monitor_id }] : [])),
      this.reorderToleranceMs,
    );
    const working = new Map<string, Working>();
    for (const { record, parsed: result } of parsed) {
      if (!result.ok) {
        rejected++;
        outbox.push(this.deadLetter(batch, record, result.reason));
        continue;
      }
      const probe = result.probe;
      const found = loaded.get(refKey(probe.tenant_id, probe.monitor_id));
      if (!found) {
        rejected++;
        outbox.push(this.deadLetter(batch, record, `unknown monitor "${probe.monitor_id}" for tenant "${probe.tenant_id}"`));
        continue;
      }
      const id = `${found.settings.tenantId}:${found.settings.monitorId}`;
      let monitor = working.get(id);
      if (!monitor) {
        monitor = { settings: found.settings, baseVersion: found.state.version, initial: found.state, state: found.state, pending: [] };
        working.set(id, monitor);
      }
      // Replays (an id in the snapshot's window) and results too late to place are dropped here.
      const decision = recordProbe(monitor.state, probe, monitor.settings);
      if (!decision.accepted) {
        duplicates++;
        continue;
      }
      monitor.state = decision.state;
      const traceparent = decision.events.length > 0 ? this.traceTransition(record, probe, decision.events, spans) : undefined;
      if (traceparent) traceOf.set(probe.event_id, traceparent);
      for (const event of decision.events) monitor.pending.push({ event, causationId: probe.event_id, traceparent });
      applied++;
    }

    const appends: StreamAppend[] = [];
    for (const monitor of working.values()) {
      if (monitor.pending.length === 0) continue;
      const { tenantId, monitorId } = monitor.settings;
      appends.push({
        streamId: monitorStreamId(tenantId, monitorId),
        expectedVersion: monitor.baseVersion,
        events: monitor.pending.map((p) => p.event),
        metadata: monitor.pending.map((p) => ({
          tenant_id: tenantId,
          monitor_id: monitorId,
          causation_id: p.causationId,
          // The probe result's trace, from the probe to every attempt of the alert it makes.
          correlation_id: traceIdOf(p.traceparent) ?? p.causationId,
        })),
      });
    }
    const appended = await this.store.appendMany(manager, appends);
    if (!appended.ok) throw new StreamConflictError(`monitor streams moved meanwhile: ${appended.streamIds.join(', ')}`);

    await projectMonitorEvents(manager, appended.events);
    let alerts = 0;
    for (const stored of appended.events) {
      const tenantId = stored.metadata.tenant_id;
      const monitorId = String(stored.metadata.monitor_id);
      const alert = alertFromEvent(stored, tenantId, monitorId);
      if (alert) {
        outbox.push(alertOutboxMessage(this.topics.alerts, alert, traceOf.get(String(stored.metadata.causation_id))));
        changed.push(new IncidentChanged(alert));
        alerts++;
      }
    }
    await this.monitors.saveSnapshots(
      manager,
      [...working.values()].filter((m) => m.state !== m.initial),
    );
    await enqueueOutbox(manager, outbox);
    return { applied, duplicates, rejected, alerts };
  }

  /**
   * A span for a record whose result changed a monitor (rare: healthy results make none),
   * the child of the record's own `traceparent` (the probe, the push request, or a
   * producer's span), or a new trace for a record that carries none.
   */
  private traceTransition(record: ConsumedRecord, probe: ProbeResult, events: readonly MonitorEvent[], spans: SpanGroup): string | undefined {
    return spans.start('route probe result', {
      parent: record.headers,
      // A record without trace context starts a trace named after its result, so a replay
      // after a crash gives its events the same correlation id (the fold stays deterministic).
      rootTraceId: createHash('sha256').update(`trace:${probe.event_id}`).digest('hex').slice(0, 32),
      kind: SpanKind.CONSUMER,
      attributes: {
        'tocsin.tenant_id': probe.tenant_id,
        'tocsin.monitor_id': probe.monitor_id,
        'tocsin.events': events.map((e) => e.type).join(','),
      },
    });
  }

  private deadLetter(batch: ConsumedBatch, record: ConsumedRecord, reason: string): OutboxMessage {
    this.logger.warn(`dead-lettering ${batch.topic}[${batch.partition}]@${record.offset}: ${reason}`);
    const copy = deadLetter({ ...record, topic: batch.topic, partition: batch.partition }, reason);
    return { topic: this.topics.probeResultsDlq, ...copy };
  }
}
