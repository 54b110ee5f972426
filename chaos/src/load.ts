import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, Partitioners, type Producer } from 'kafkajs';
import type { Pool } from 'pg';
import { HEADERS, topicNames, type ProbeResult } from '@tocsin/contracts';

/** How a monitor's results reach Tocsin: pushed to the API, or produced straight to Kafka. */
export type Path = 'push' | 'kafka';

/** One monitor the load drives, and what it sent. */
export interface DrivenMonitor {
  readonly tenantId: string;
  readonly apiKey: string;
  readonly id: string;
  readonly slug: string;
  readonly path: Path;
  /** Results acknowledged (202 from the API, or the broker's ack). */
  sent: number;
  /** Sends repeated with the same event_id after an error or an unknown outcome. */
  retries: number;
  /** Outage cycles sent in full: each is one incident opened and resolved. */
  cycles: number;
}

/** Three failures confirm an incident (confirm_after 3), the fourth result resolves it. */
const CYCLE = [false, false, false, true, true] as const;

/** An answer that sending again cannot change: the harness itself is wrong. */
class RefusedResult extends Error {}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The steady load: every driven monitor sends outage cycles, one result at a time, each
 * sent again with the same event_id until it is acknowledged (a crash between the write and
 * the answer makes a duplicate, which the router drops as a replay; nothing is skipped).
 * Monitors are made in the database with their probe booked a year out, so probe-ingest
 * does not probe them: their results are only the ones counted here.
 */
export class Load {
  private running = false;
  private loops: Promise<void>[] = [];
  private readonly producer: Producer;
  private readonly topic: string;

  constructor(
    brokers: string,
    namespace: string,
    private readonly apiUrl: () => string,
    private readonly db: Pool,
    private readonly periodMs: number,
  ) {
    this.topic = topicNames(namespace).probeResults;
    const kafka = new Kafka({ clientId: 'chaos-load', brokers: [brokers], logLevel: logLevel.NOTHING, retry: { retries: 2, initialRetryTime: 100 } });
    this.producer = kafka.producer({ idempotent: false, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
  }

  connect(): Promise<void> {
    return this.producer.connect();
  }

  disconnect(): Promise<void> {
    return this.producer.disconnect();
  }

  /** Inserts monitors that only this load sends results for. */
  async monitors(tenant: { id: string; apiKey: string }, prefix: string, counts: Record<Path, number>): Promise<DrivenMonitor[]> {
    const made: DrivenMonitor[] = [];
    for (const path of ['push', 'kafka'] as const) {
      for (let i = 0; i < counts[path]; i++) made.push({ tenantId: tenant.id, apiKey: tenant.apiKey, id: randomUUID(), slug: `${prefix}-${path}-${i}`, path, sent: 0, retries: 0, cycles: 0 });
    }
    await this.db.query(
      `WITH m AS (
         INSERT INTO monitors (id, tenant_id, slug, name, url, kind, interval_seconds, timeout_ms, confirm_after, recover_after)
         SELECT id, $1, slug, slug, 'http://127.0.0.1:9/not-probed', 'http', 86400, 1000, 3, 1 FROM unnest($2::uuid[], $3::text[]) AS x(id, slug)
         RETURNING id)
       INSERT INTO probe_leases (monitor_id, next_due_at) SELECT id, now() + interval '365 days' FROM m`,
      [tenant.id, made.map((m) => m.id), made.map((m) => m.slug)],
    );
    return made;
  }

  /** Starts every monitor's cycles; stop() lets each finish the cycle it is in. */
  start(monitors: readonly DrivenMonitor[]): void {
    this.running = true;
    this.loops = monitors.map((m, n) => this.drive(m, n * (this.periodMs / monitors.length)));
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  /** One outage cycle for a monitor as fast as it is acknowledged (the canary). */
  async cycle(monitor: DrivenMonitor, between?: () => Promise<void>): Promise<void> {
    for (const [i, ok] of CYCLE.entries()) {
      await this.send(monitor, ok);
      if (i === 2 && between) await between();
    }
    monitor.cycles++;
  }

  private async drive(monitor: DrivenMonitor, offsetMs: number): Promise<void> {
    await sleep(offsetMs);
    while (this.running) {
      for (const ok of CYCLE) {
        await this.send(monitor, ok);
        await sleep(this.periodMs);
      }
      monitor.cycles++;
    }
  }

  private async send(monitor: DrivenMonitor, ok: boolean): Promise<void> {
    const result: ProbeResult = {
      event_id: randomUUID(),
      tenant_id: monitor.tenantId,
      monitor_id: monitor.id,
      observed_at: new Date().toISOString(),
      ok,
      source: 'kafka',
      ...(ok ? { latency_ms: 5 } : { failure_layer: 'http', http_status: 503, error: 'HTTP 503' }),
    };
    for (let attempt = 0; ; attempt++) {
      if (attempt > 0) {
        monitor.retries++;
        await sleep(Math.min(1000, 50 * attempt));
      }
      try {
        if (monitor.path === 'kafka') {
          await this.producer.send({
            topic: this.topic,
            acks: -1,
            messages: [{ key: `${monitor.tenantId}:${monitor.id}`, value: JSON.stringify(result), headers: { [HEADERS.tenantId]: monitor.tenantId } }],
          });
        } else if (!(await this.push(monitor, result))) {
          continue;
        }
        monitor.sent++;
        return;
      } catch (err) {
        if (err instanceof RefusedResult) throw err;
        // Refused, reset or timed out: the outcome is unknown, so the same record goes again.
      }
    }
  }

  /** True once the API accepted the result; false on an answer that asks to try again. */
  private async push(monitor: DrivenMonitor, r: ProbeResult): Promise<boolean> {
    const res = await fetch(`${this.apiUrl()}/probe-results`, {
      method: 'POST',
      headers: { authorization: `Bearer ${monitor.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        results: [{ monitor_id: r.monitor_id, event_id: r.event_id, observed_at: r.observed_at, ok: r.ok, failure_layer: r.failure_layer, http_status: r.http_status, error: r.error, latency_ms: r.latency_ms }],
      }),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    if (res.status === 202) {
      const body = JSON.parse(text) as { accepted: number; rejected: unknown[] };
      if (body.accepted !== 1) throw new RefusedResult(`the API rejected a good result: ${text}`);
      return true;
    }
    if (res.status >= 500 || res.status === 429) return false;
    throw new RefusedResult(`POST /v1/probe-results answered ${res.status}: ${text}`);
  }
}
