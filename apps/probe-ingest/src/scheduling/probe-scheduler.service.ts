import { randomBytes, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { Counter, Histogram } from 'prom-client';
import type { TocsinConfig } from '@tocsin/config';
import type { ProbeResult } from '@tocsin/contracts';
import type { MonitorEntity } from '@tocsin/database';
import { KafkaProducerService, KafkaTopicsService } from '@tocsin/kafka';
import { MetricsRegistry, PollingLoop, ReadinessRegistry, sampledGauge, SpanKind, TOCSIN_CONFIG, Tracing, type Span } from '@tocsin/runtime';
import { sealedIn, SecretBox } from '@tocsin/secrets';
import { ProberService } from '../probing/prober.service';
import { ProbeResultPublisher, ResultRefusedError } from '../publishing/probe-result.publisher';
import { nextSlotAfter, phaseMs } from './phase';
import { ProbeLeaseRepository, type ClaimedProbe } from './probe-lease.repository';

const TICK_MS = 200;

/**
 * Probes every monitor once per interval, in its own phase slot, shared with any number of
 * other replicas through the lease table: a replica claims due monitors (up to its free
 * concurrency), probes them, publishes each result, then books the next slot. A monitor's
 * next probe never starts while its lease is held, so one monitor is never probed twice at
 * once, by this replica or another.
 */
@Injectable()
export class ProbeScheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ProbeScheduler.name);
  /** This replica's name on its leases: unique per process, readable in the table. */
  readonly owner = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  private readonly running = new Set<Promise<void>>();
  private readonly refreshLoop: PollingLoop;
  private readonly tickLoop: PollingLoop;
  private readonly probes: Counter<'kind' | 'layer' | 'outcome'>;
  private readonly latency: Histogram<'kind' | 'layer'>;
  private readonly concurrency: number;
  private readonly graceMs: number;
  private loaded = false;
  private stopping = false;

  constructor(
    private readonly leases: ProbeLeaseRepository,
    private readonly prober: ProberService,
    private readonly publisher: ProbeResultPublisher,
    private readonly producer: KafkaProducerService,
    private readonly topics: KafkaTopicsService,
    readiness: ReadinessRegistry,
    @Inject(TOCSIN_CONFIG) config: TocsinConfig,
    metrics: MetricsRegistry,
    private readonly box: SecretBox,
    private readonly tracing: Tracing,
  ) {
    this.concurrency = config.TOCSIN_PROBE_CONCURRENCY;
    this.graceMs = config.TOCSIN_PROBE_LEASE_GRACE_MS;
    this.refreshLoop = new PollingLoop('MonitorRefresh', config.TOCSIN_MONITOR_REFRESH_MS, async () => {
      const added = await this.leases.scheduleNewMonitors();
      if (added > 0) this.logger.log(`scheduled ${added} new monitor(s)`);
      this.loaded = true;
      return false;
    });
    // Returning true polls again at once: there was a full batch, so more may be due.
    this.tickLoop = new PollingLoop('ProbeTick', TICK_MS, () => this.launchDue());
    readiness.register('monitors-loaded', () => this.loaded);
    this.probes = new Counter({
      name: 'tocsin_probes_total',
      help: 'Probes run (outcome up or down, with the failing layer), and what else befell them: lease_lost, headers_unreadable, publish_refused, publish_failed',
      labelNames: ['kind', 'layer', 'outcome'],
      registers: [metrics],
    });
    this.latency = new Histogram({
      name: 'tocsin_probe_seconds',
      help: 'Probe duration, by the layer that failed (none when up)',
      labelNames: ['kind', 'layer'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [metrics],
    });
    sampledGauge(metrics, {
      name: 'tocsin_probe_overdue_seconds',
      help: 'How late the most overdue probe is (due, not leased); 0 when every probe runs on time',
      read: async () => [{ labels: {}, value: await this.leases.overdueSeconds() }],
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.topics.ensureTopics();
    await this.producer.connect();
    this.refreshLoop.start();
    this.tickLoop.start();
  }

  private async launchDue(): Promise<boolean> {
    if (this.stopping || !this.loaded) return false;
    const free = this.concurrency - this.running.size;
    const claimed = await this.leases.claimDue(this.owner, free, this.graceMs);
    for (const probe of claimed) {
      const run = this.probeOnce(probe)
        .catch((err: unknown) => this.logger.error(`probe of monitor ${probe.monitor.id} failed: ${(err as Error).message}`))
        .finally(() => {
          this.running.delete(run);
          this.tickLoop.nudge();
        });
      this.running.add(run);
    }
    return claimed.length > 0 && claimed.length === free;
  }

  private async probeOnce({ monitor }: ClaimedProbe): Promise<void> {
    const startedAt = Date.now();
    try {
      await this.probeAndPublish(monitor);
    } finally {
      // The slot after the one this probe started in: a probe that ends after the next slot
      // began still lets that slot run (at once) rather than skipping it.
      const intervalMs = monitor.interval_seconds * 1000;
      const next = nextSlotAfter(startedAt, intervalMs, phaseMs(monitor.id, intervalMs));
      const kept = await this.leases.complete(this.owner, monitor.id, new Date(next));
      if (!kept) this.probes.inc({ kind: monitor.kind, layer: 'none', outcome: 'lease_lost' });
    }
  }

  /** Each probe starts a trace; its result carries the trace to the router and on to every attempt. */
  private probeAndPublish(monitor: MonitorEntity): Promise<void> {
    const attributes = { 'tocsin.tenant_id': monitor.tenant_id, 'tocsin.monitor_id': monitor.id, 'tocsin.monitor.kind': monitor.kind };
    return this.tracing.inSpan(`probe ${monitor.kind}`, { parent: {}, kind: SpanKind.CLIENT, attributes }, (span) =>
      this.probeAndPublishIn(span, monitor),
    );
  }

  private async probeAndPublishIn(span: Span, monitor: MonitorEntity): Promise<void> {
    const observedAt = new Date().toISOString();
    const probed = await this.prober.probe(monitor);
    if (!probed) {
      this.probes.inc({ kind: monitor.kind, layer: 'none', outcome: 'headers_unreadable' });
      return;
    }
    const { outcome, learned } = probed;
    const layer = outcome.failure_layer ?? 'none';
    span.setAttributes({ 'tocsin.probe.ok': outcome.ok, 'tocsin.probe.layer': layer });
    this.latency.observe({ kind: monitor.kind, layer }, outcome.latency_ms / 1000);
    this.probes.inc({ kind: monitor.kind, layer, outcome: outcome.ok ? 'up' : 'down' });
    const result: ProbeResult = {
      event_id: randomUUID(),
      tenant_id: monitor.tenant_id,
      monitor_id: monitor.id,
      observed_at: observedAt,
      source: 'active',
      ...outcome,
    };
    try {
      await this.publisher.publish(result);
    } catch (err) {
      // The next probe is only an interval away; an unpublished result is counted, not retried.
      // A result Kafka refused for good (its copy is in the DLQ) is counted apart.
      this.probes.inc({ kind: monitor.kind, layer, outcome: err instanceof ResultRefusedError ? 'publish_refused' : 'publish_failed' });
      this.logger.error(`could not publish probe result for monitor ${monitor.id}: ${(err as Error).message}`);
    }
    if (learned) await this.leases.learn(monitor.id, learned);
    // Key rotation: headers sealed with an older key are re-sealed with the current one.
    // A re-seal that fails leaves the row as it was (the probe already used its headers) and
    // is tried again on the next probe: it is this monitor's trouble, logged, never thrown.
    if (monitor.sealed_headers && this.box.needsReseal(monitor.sealed_headers)) {
      try {
        await this.leases.reseal(monitor.id, monitor.sealed_headers, this.box.reseal(monitor.sealed_headers, sealedIn.monitorHeaders(monitor.id)));
      } catch (err) {
        this.logger.warn(`could not re-seal the headers of monitor ${monitor.id}: ${(err as Error).message}`);
      }
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await Promise.all([this.refreshLoop.stop(), this.tickLoop.stop()]);
    await Promise.allSettled([...this.running]);
    await this.leases.release(this.owner).catch(() => undefined);
  }
}
