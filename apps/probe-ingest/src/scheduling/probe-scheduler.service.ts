import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { Counter, Histogram } from 'prom-client';
import { DataSource } from 'typeorm';
import type { TocsinConfig } from '@tocsin/config';
import type { ProbeResult } from '@tocsin/contracts';
import { MonitorEntity } from '@tocsin/database';
import { KafkaProducerService, KafkaTopicsService } from '@tocsin/kafka';
import { MetricsRegistry, PollingLoop, ReadinessRegistry, TOCSIN_CONFIG } from '@tocsin/runtime';
import { ProberService } from '../probing/prober.service';
import { ProbeResultPublisher } from '../publishing/probe-result.publisher';

const TICK_MS = 200;
const MAX_CONCURRENT_PROBES = 64;

interface Slot {
  monitor: MonitorEntity;
  nextDueAt: number;
  running: boolean;
}

/**
 * Probes every monitor on its own interval. Monitors are re-read from Postgres
 * periodically, so ones created, changed or deleted through the API are picked up.
 * A monitor's next probe never starts while its previous one is still running.
 */
@Injectable()
export class ProbeScheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ProbeScheduler.name);
  private readonly slots = new Map<string, Slot>();
  private readonly running = new Set<Promise<void>>();
  private readonly refreshLoop: PollingLoop;
  private readonly tickLoop: PollingLoop;
  private readonly probes: Counter<'outcome'>;
  private readonly latency: Histogram<'kind'>;
  private loaded = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly prober: ProberService,
    private readonly publisher: ProbeResultPublisher,
    private readonly producer: KafkaProducerService,
    private readonly topics: KafkaTopicsService,
    readiness: ReadinessRegistry,
    @Inject(TOCSIN_CONFIG) config: TocsinConfig,
    metrics: MetricsRegistry,
  ) {
    this.refreshLoop = new PollingLoop('MonitorRefresh', config.TOCSIN_MONITOR_REFRESH_MS, async () => {
      await this.refresh();
      return false;
    });
    this.tickLoop = new PollingLoop('ProbeTick', TICK_MS, async () => {
      this.launchDue();
      return false;
    });
    readiness.register('monitors-loaded', () => this.loaded);
    this.probes = new Counter({ name: 'tocsin_probes_total', help: 'Probes run, by outcome', labelNames: ['outcome'], registers: [metrics] });
    this.latency = new Histogram({
      name: 'tocsin_probe_seconds',
      help: 'Probe duration',
      labelNames: ['kind'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [metrics],
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.topics.ensureTopics();
    await this.producer.connect();
    this.refreshLoop.start();
    this.tickLoop.start();
  }

  private async refresh(): Promise<void> {
    const monitors = await this.dataSource.getRepository(MonitorEntity).find();
    const seen = new Set<string>();
    const now = Date.now();
    for (const monitor of monitors) {
      seen.add(monitor.id);
      const slot = this.slots.get(monitor.id);
      if (!slot) this.slots.set(monitor.id, { monitor, nextDueAt: now, running: false });
      else {
        if (monitor.interval_seconds < slot.monitor.interval_seconds) slot.nextDueAt = Math.min(slot.nextDueAt, now + monitor.interval_seconds * 1000);
        slot.monitor = monitor;
      }
    }
    for (const id of this.slots.keys()) if (!seen.has(id)) this.slots.delete(id);
    if (!this.loaded) this.logger.log(`scheduling ${monitors.length} monitor(s)`);
    this.loaded = true;
  }

  private launchDue(): void {
    const now = Date.now();
    for (const slot of this.slots.values()) {
      if (this.running.size >= MAX_CONCURRENT_PROBES) return;
      if (slot.running || slot.nextDueAt > now) continue;
      slot.running = true;
      slot.nextDueAt = now + slot.monitor.interval_seconds * 1000;
      const run = this.probeOnce(slot.monitor).finally(() => {
        slot.running = false;
        this.running.delete(run);
      });
      this.running.add(run);
    }
  }

  private async probeOnce(monitor: MonitorEntity): Promise<void> {
    const observedAt = new Date().toISOString();
    const outcome = await this.prober.probe(monitor);
    this.latency.observe({ kind: monitor.kind }, outcome.latency_ms / 1000);
    this.probes.inc({ outcome: outcome.ok ? 'ok' : (outcome.failure_layer ?? 'failed') });
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
      this.probes.inc({ outcome: 'publish_failed' });
      this.logger.error(`could not publish probe result for monitor ${monitor.id}: ${(err as Error).message}`);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([this.refreshLoop.stop(), this.tickLoop.stop()]);
    await Promise.allSettled([...this.running]);
  }
}
