import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { Counter, Histogram } from 'prom-client';
import { DataSource, type EntityManager } from 'typeorm';
import type { TocsinConfig } from '@tocsin/config';
import {
  DELIVERY_EVENTS,
  ENDPOINT_EVENTS,
  endpointStreamId,
  USER_AGENT,
  type AttemptFailedData,
  type AttemptSucceededData,
  type EndpointDisabledData,
} from '@tocsin/contracts';
import type { DeliveryEntity, EndpointEntity } from '@tocsin/database';
import { EventStore, type NewEvent } from '@tocsin/event-store';
import { MetricsRegistry, PollingLoop, TOCSIN_CONFIG } from '@tocsin/runtime';
import { signWebhook } from '@tocsin/signing';
import { WebhookClient } from '../http/webhook-client';
import { judgeAttempt, type Verdict } from './attempt-outcome';
import { DeliveryRepository, type DeliveryUpdate } from './delivery.repository';

/** Longest endpoint timeout (30 s) plus margin: a lease outliving it means the worker died. */
const LEASE_SECONDS = 60;
const SNIPPET_CHARS = 512;

interface Claimed {
  readonly delivery: DeliveryEntity;
  readonly endpoint: EndpointEntity;
}

/**
 * Sends due deliveries. The queue is the deliveries table, so a worker killed at any
 * moment loses nothing: its leases expire and another worker (or its restart) resumes.
 */
@Injectable()
export class DeliveryWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(DeliveryWorker.name);
  private readonly loop: PollingLoop;
  private readonly client: WebhookClient;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly attempts: Counter<'outcome'>;
  private readonly latency: Histogram;

  constructor(
    private readonly dataSource: DataSource,
    private readonly deliveries: DeliveryRepository,
    private readonly store: EventStore,
    @Inject(TOCSIN_CONFIG) private readonly config: TocsinConfig,
    metrics: MetricsRegistry,
  ) {
    this.client = new WebhookClient(config.TOCSIN_ALLOW_PRIVATE_URLS);
    this.loop = new PollingLoop(DeliveryWorker.name, config.TOCSIN_DISPATCH_POLL_MS, () => this.claimAndSend());
    this.attempts = new Counter({
      name: 'tocsin_delivery_attempts_total',
      help: 'Webhook delivery attempts, by outcome',
      labelNames: ['outcome'],
      registers: [metrics],
    });
    this.latency = new Histogram({
      name: 'tocsin_delivery_attempt_seconds',
      help: 'Duration of webhook delivery attempts',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [metrics],
    });
  }

  onApplicationBootstrap(): void {
    this.loop.start();
  }

  nudge(): void {
    this.loop.nudge();
  }

  private async claimAndSend(): Promise<boolean> {
    const free = this.config.TOCSIN_DISPATCH_CONCURRENCY - this.inFlight.size;
    if (free <= 0) return false;
    const claimed = await this.dataSource.transaction((manager) => this.claim(manager, free));
    for (const work of claimed) {
      const running = this.attempt(work).catch((err: Error) =>
        this.logger.error(`attempt of delivery ${work.delivery.id} failed to record; its lease will expire: ${err.message}`),
      );
      this.inFlight.add(running);
      void running.finally(() => {
        this.inFlight.delete(running);
        this.loop.nudge();
      });
    }
    return claimed.length > 0 && claimed.length === free;
  }

  private async claim(manager: EntityManager, limit: number): Promise<Claimed[]> {
    const rows = await this.deliveries.claimDue(manager, limit, this.config.TOCSIN_ENDPOINT_CONCURRENCY, LEASE_SECONDS);
    if (rows.length === 0) return [];
    const endpoints: EndpointEntity[] = await manager.query('SELECT * FROM endpoints WHERE id = ANY($1::uuid[])', [
      rows.map((r) => r.endpoint_id),
    ]);
    const byId = new Map(endpoints.map((e) => [e.id, e]));
    const ready: Claimed[] = [];
    for (const delivery of rows) {
      const endpoint = byId.get(delivery.endpoint_id);
      if (!endpoint || endpoint.tenant_id !== delivery.tenant_id) {
        await this.deliveries.record(manager, delivery, [deadLettered(delivery.attempts - 1, 'endpoint deleted')], {
          status: 'dead_lettered',
          lastError: 'endpoint deleted',
        });
      } else if (endpoint.status === 'paused' || endpoint.status === 'disabled') {
        const reason = `endpoint ${endpoint.status}`;
        await this.deliveries.record(manager, delivery, [{ ...DELIVERY_EVENTS.Skipped, data: { reason } }], {
          status: 'skipped',
          lastError: reason,
        });
      } else {
        const started: NewEvent = {
          ...DELIVERY_EVENTS.AttemptStarted,
          data: { attempt: delivery.attempts, url: endpoint.url },
        };
        const version = await this.deliveries.record(manager, delivery, [started]);
        ready.push({ delivery: { ...delivery, stream_version: version }, endpoint });
      }
    }
    return ready;
  }

  private async attempt({ delivery, endpoint }: Claimed): Promise<void> {
    const now = new Date();
    const body = JSON.stringify({ ...delivery.body, delivered_at: now.toISOString() });
    const signature = signWebhook({ webhookId: delivery.id, timestamp: now, body, secrets: [endpoint.secret] });
    const response = await this.client.send({
      url: endpoint.url,
      method: endpoint.method,
      timeoutMs: endpoint.timeout_ms,
      body,
      headers: {
        ...endpoint.headers,
        'content-type': 'application/json',
        'user-agent': USER_AGENT,
        ...signature,
        'x-tocsin-event': delivery.event_type,
        'x-tocsin-attempt': String(delivery.attempts),
      },
    });
    const verdict = judgeAttempt(response.result, delivery.attempts, endpoint.retry_schedule_seconds, new Date());
    this.attempts.inc({ outcome: verdict.kind });
    this.latency.observe(response.durationMs / 1000);

    const status = response.result.kind === 'response' ? response.result.status : null;
    const snippet = response.snippet?.slice(0, SNIPPET_CHARS) ?? null;
    const requestBytes = Buffer.byteLength(body);
    const [events, update] = outcomeEvents(delivery, verdict, { status, snippet, requestBytes, durationMs: response.durationMs, response });

    await this.dataSource.transaction(async (manager) => {
      await this.deliveries.record(manager, delivery, events, update);
      if (verdict.kind === 'dead_letter' && verdict.disableEndpoint) await this.disableEndpoint(manager, endpoint, delivery, verdict.reason);
    });
    this.logger.log(
      `delivery ${delivery.id} attempt ${delivery.attempts} → ${verdict.kind}${status ? ` (HTTP ${status})` : ''} to endpoint ${endpoint.id}`,
    );
  }

  private async disableEndpoint(manager: EntityManager, endpoint: EndpointEntity, delivery: DeliveryEntity, reason: string) {
    const stream = endpointStreamId(endpoint.id);
    const data: EndpointDisabledData = { endpoint_id: endpoint.id, reason, delivery_id: delivery.id };
    await this.store.append(manager, stream, await this.store.streamVersion(manager, stream), [
      { ...ENDPOINT_EVENTS.EndpointDisabled, data },
    ], { tenant_id: endpoint.tenant_id, causation_id: delivery.id });
    await manager.query(`UPDATE endpoints SET status = 'disabled', updated_at = now() WHERE id = $1 AND tenant_id = $2`, [
      endpoint.id,
      endpoint.tenant_id,
    ]);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.loop.stop();
    await Promise.allSettled([...this.inFlight]);
    await this.client.close();
  }
}

function deadLettered(attempts: number, reason: string): NewEvent {
  return { ...DELIVERY_EVENTS.DeadLettered, data: { attempts, reason } };
}

interface AttemptEvidence {
  readonly status: number | null;
  readonly snippet: string | null;
  readonly requestBytes: number;
  readonly durationMs: number;
  readonly response: { result: { kind: string; message?: string } };
}

function outcomeEvents(delivery: DeliveryEntity, verdict: Verdict, evidence: AttemptEvidence): [NewEvent[], DeliveryUpdate] {
  const attempt = delivery.attempts;
  if (verdict.kind === 'delivered') {
    const data: AttemptSucceededData = {
      attempt,
      http_status: evidence.status ?? 0,
      duration_ms: evidence.durationMs,
      request_bytes: evidence.requestBytes,
      response_snippet: evidence.snippet ?? '',
    };
    return [[{ ...DELIVERY_EVENTS.AttemptSucceeded, data }], { status: 'delivered', lastHttpStatus: evidence.status }];
  }
  const error = evidence.response.result.message ?? (evidence.status ? `HTTP ${evidence.status}` : null);
  const failed: AttemptFailedData = {
    attempt,
    http_status: evidence.status,
    duration_ms: evidence.durationMs,
    request_bytes: evidence.requestBytes,
    response_snippet: evidence.snippet,
    error_class: verdict.errorClass,
    error,
    retriable: verdict.kind === 'retry',
  };
  const failedEvent: NewEvent = { ...DELIVERY_EVENTS.AttemptFailed, data: failed };
  if (verdict.kind === 'retry') {
    const dueAt = new Date(Date.now() + verdict.delaySeconds * 1000);
    return [
      [failedEvent, { ...DELIVERY_EVENTS.RetryScheduled, data: { next_attempt: attempt + 1, due_at: dueAt.toISOString() } }],
      { status: 'retrying', nextAttemptAt: dueAt, lastHttpStatus: evidence.status, lastError: error },
    ];
  }
  return [
    [failedEvent, deadLettered(attempt, verdict.reason)],
    { status: 'dead_lettered', lastHttpStatus: evidence.status, lastError: verdict.reason },
  ];
}
