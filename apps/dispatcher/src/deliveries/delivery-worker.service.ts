import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { Counter, Histogram } from 'prom-client';
import { DataSource } from 'typeorm';
import { tenantMaxInFlight, type TocsinConfig } from '@tocsin/config';
import {
  DELIVERY_EVENTS,
  storableText,
  USER_AGENT,
  type AttemptFailedData,
  type AttemptStartedData,
  type AttemptSucceededData,
  type WebhookBody,
} from '@tocsin/contracts';
import type { EndpointEntity } from '@tocsin/database';
import { describeUnreadable, endpointHeaders, openSecret, p1Fallback, parseKafkaDestination, sealStoredSecrets, signingSecrets } from '@tocsin/delivery-queue';
import { isDataError, type NewEvent } from '@tocsin/event-store';
import { MetricsRegistry, PollingLoop, SpanKind, SpanStatusCode, TOCSIN_CONFIG, Tracing } from '@tocsin/runtime';
import { SecretBox, SecretsError } from '@tocsin/secrets';
import { signWebhook } from '@tocsin/signing';
import { EndpointHealthRecorder, type EndpointAttempt } from '../endpoints/endpoint-health.recorder';
import { KafkaDestinationClient, type KafkaRequest } from '../http/kafka-destination-client';
import { MailClient, type MailRequest } from '../http/mail-client';
import { WebhookClient, type WebhookRequest, type WebhookResponse } from '../http/webhook-client';
import { alertEmail } from './alert-email';
import { pagerDutyEvent } from './pagerduty-event';
import { slackMessage } from './slack-message';
import { judgeAttempt, type Verdict } from './attempt-outcome';
import {
  DeliveryRepository,
  MAX_LEASE_EXPIRIES,
  type ClaimedDelivery,
  type ClaimRecord,
  type DeliveryRecord,
  type DeliveryUpdate,
} from './delivery.repository';

const SNIPPET_CHARS = 512;
const ERROR_CHARS = 1024;
/** Outcomes written in one transaction at most; more wait for the next flush. */
const MAX_FLUSH = 500;
/**
 * While other attempts are still waiting on their receivers, a flush waits up to this
 * long for them (or for COALESCE_AT outcomes), so one transaction records many outcomes
 * instead of the first one alone.
 */
const COALESCE_MS = 5;
const COALESCE_AT = 128;
/** Flush transactions that may run at once, each for its own share of the endpoints. */
const FLUSH_LANES = 2;
/** A claim waits for 1/CLAIM_FRACTION of the slots to be free while outcomes are being written. */
const CLAIM_FRACTION = 8;
/** The advisory lock every replica's claim takes (an arbitrary, fixed 64-bit key). */
const CLAIM_LOCK_KEY = '7311042551';
const REAP_EVERY_MS = 2_000;
const PURGE_EVERY_MS = 10 * 60_000;

/** What one attempt sends: an HTTP request, an email, or nothing, as its secret cannot be opened. */
type Outgoing =
  | { readonly http: WebhookRequest }
  | { readonly mail: MailRequest }
  | { readonly kafka: KafkaRequest }
  | { readonly unreadable: string };

function requestBytes(outgoing: Outgoing): number {
  if ('http' in outgoing) return Buffer.byteLength(outgoing.http.body);
  if ('mail' in outgoing) return Buffer.byteLength(outgoing.mail.email.text) + Buffer.byteLength(outgoing.mail.email.html);
  if ('kafka' in outgoing) return Buffer.byteLength(outgoing.kafka.value);
  return 0;
}

/** An email endpoint's url is `mailto:` its recipients, comma separated. */
function mailRecipients(url: string): string[] {
  return decodeURIComponent(url.replace(/^mailto:/, '')).split(',').filter((to) => to.length > 0);
}

interface Claimed {
  readonly delivery: ClaimedDelivery;
  readonly endpoint: EndpointEntity;
}

interface FlushLane {
  readonly pending: Finished[];
  running: Promise<void> | null;
  timer: NodeJS.Timeout | null;
}

/** The flush lane of an endpoint: a stable spread of endpoint ids over the lanes. */
function laneOf(endpointId: string): number {
  return parseInt(endpointId.slice(0, 8), 16) % FLUSH_LANES;
}

interface Finished {
  readonly record: DeliveryRecord;
  readonly attempt: EndpointAttempt;
  readonly done: () => void;
  readonly failed: (err: Error) => void;
}

/**
 * Sends due deliveries. The queue is the deliveries table, so a worker killed at any
 * moment loses nothing: its leases expire and another worker (or its restart) resumes.
 * Claims are taken and outcomes written in batches: a few statements per batch, not per
 * delivery, whatever the number of attempts in flight.
 */
@Injectable()
export class DeliveryWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(DeliveryWorker.name);
  private readonly loop: PollingLoop;
  private readonly client: WebhookClient;
  private readonly mail: MailClient;
  private readonly kafka = new KafkaDestinationClient();
  private readonly inFlight = new Set<Promise<void>>();
  /** Attempts in flight here, by tenant: the claim gives no tenant more than its cap. */
  private readonly tenantInFlight = new Map<string, number>();
  private readonly attempts: Counter<'outcome'>;
  private readonly latency: Histogram;
  private readonly finished: Counter<'outcome'>;
  /** Outcomes waiting to be written, in lanes by endpoint: see scheduleFlush. */
  private readonly lanes: FlushLane[] = Array.from({ length: FLUSH_LANES }, () => ({ pending: [], running: null, timer: null }));
  /** Outcomes waiting or inside a flush transaction right now. */
  private unwritten = 0;
  private stopping = false;
  private lastReap = 0;
  private lastPurge = Date.now();

  constructor(
    private readonly dataSource: DataSource,
    private readonly deliveries: DeliveryRepository,
    private readonly health: EndpointHealthRecorder,
    private readonly box: SecretBox,
    @Inject(TOCSIN_CONFIG) private readonly config: TocsinConfig,
    metrics: MetricsRegistry,
    private readonly tracing: Tracing,
  ) {
    this.client = new WebhookClient(config.TOCSIN_ALLOW_PRIVATE_URLS, config.TOCSIN_DISPATCH_CONCURRENCY, config.TOCSIN_ALLOWED_PRIVATE_CIDRS);
    this.mail = new MailClient(config.TOCSIN_SMTP_URL, config.TOCSIN_SMTP_FROM);
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
    this.finished = new Counter({
      name: 'tocsin_deliveries_total',
      help: 'Deliveries finished, counted when the outcome is stored: delivered, dead_lettered, skipped (endpoint paused or disabled)',
      labelNames: ['outcome'],
      registers: [metrics],
    });
    for (const outcome of ['delivered', 'dead_lettered', 'skipped']) this.finished.inc({ outcome }, 0);
  }

  async onApplicationBootstrap(): Promise<void> {
    const sealed = await sealStoredSecrets(this.dataSource.manager, this.box, (row) => this.logger.warn(describeUnreadable(row)));
    if (sealed.resealed > 0) this.logger.log(`sealed ${sealed.resealed} stored secret(s) with key ${this.box.currentKeyId}`);
    this.loop.start();
  }

  nudge(): void {
    this.loop.nudge();
  }

  private async claimAndSend(): Promise<boolean> {
    await this.housekeeping();
    const free = this.config.TOCSIN_DISPATCH_CONCURRENCY - this.inFlight.size;
    // A claim costs about the same for a few rows as for hundreds: while outcomes are
    // being written (each flush nudges the loop again when it commits), let freed slots
    // gather. Slots held by slow receivers never hold a claim back.
    const moreFreeSoon = this.unwritten > 0;
    if (free <= 0 || (free < this.config.TOCSIN_DISPATCH_CONCURRENCY / CLAIM_FRACTION && moreFreeSoon)) return false;
    // Claims run one at a time: each counts the endpoints' free slots from the rows in
    // flight, so two overlapping claims could hand out the same slot twice. In this process
    // the loop never overlaps its ticks; across replicas a transaction-scoped advisory lock
    // makes each claim see the previous one's committed rows.
    const { ready: claimed, finished } = await this.dataSource.transaction(async (manager) => {
      await manager.query('SELECT pg_advisory_xact_lock($1)', [CLAIM_LOCK_KEY]);
      return this.claim(manager, free);
    });
    finished.forEach((update) => this.countFinished(update));
    this.launch(claimed);
    return claimed.length > 0 && claimed.length === free;
  }

  private launch(claimed: readonly Claimed[]): void {
    for (const work of claimed) {
      const tenant = work.delivery.tenant_id;
      const running = this.attempt(work).catch((err: Error) =>
        this.logger.error(`attempt of delivery ${work.delivery.id} failed to record; its lease will expire: ${err.message}`),
      );
      this.inFlight.add(running);
      this.tenantInFlight.set(tenant, (this.tenantInFlight.get(tenant) ?? 0) + 1);
      void running.finally(() => {
        this.inFlight.delete(running);
        const left = (this.tenantInFlight.get(tenant) ?? 1) - 1;
        if (left > 0) this.tenantInFlight.set(tenant, left);
        else this.tenantInFlight.delete(tenant);
      });
    }
  }

  private async housekeeping(): Promise<void> {
    const now = Date.now();
    if (now - this.lastReap >= REAP_EVERY_MS) {
      this.lastReap = now;
      const reaped = await this.dataSource.transaction((manager) => this.deliveries.reapExpiredLeases(manager));
      if (reaped.requeued > 0) this.logger.warn(`${reaped.requeued} deliveries had outlived their lease (a worker died mid-attempt); they are due again`);
      if (reaped.deadLettered > 0) this.logger.error(`${reaped.deadLettered} deliveries outlived their lease ${MAX_LEASE_EXPIRIES} times; dead-lettered`);
      await this.kafka.closeIdle();
      const handed = await this.dataSource.transaction((manager) => this.deliveries.handOverHeldP1s(manager));
      if (handed > 0) this.logger.warn(`${handed} P1 deliveries held by an open breaker went to their endpoint's fallback`);
    }
    if (now - this.lastPurge >= PURGE_EVERY_MS) {
      this.lastPurge = now;
      const purged = await this.deliveries.purgeFinished(this.dataSource.manager, this.config.TOCSIN_DELIVERY_RETENTION_DAYS, 10_000);
      if (purged > 0) this.logger.log(`purged ${purged} finished deliveries past retention; their events stay in the log`);
    }
  }

  /** The deliveries to attempt now, and those the claim finished itself (endpoint gone, paused or disabled). */
  private async claim(manager: DataSource['manager'], limit: number): Promise<{ ready: Claimed[]; finished: DeliveryUpdate[] }> {
    const rows = await this.deliveries.claimDue(
      manager,
      limit,
      this.config.TOCSIN_ENDPOINT_CONCURRENCY,
      tenantMaxInFlight(this.config),
      this.tenantInFlight,
    );
    if (rows.length === 0) return { ready: [], finished: [] };
    const endpoints = await this.deliveries.endpoints(manager, rows.map((r) => r.endpoint_id));
    const byId = new Map(endpoints.map((e) => [e.id, e]));
    const ready: Claimed[] = [];
    const writes: ClaimRecord[] = [];
    for (const delivery of rows) {
      const endpoint = byId.get(delivery.endpoint_id);
      if (!endpoint || endpoint.tenant_id !== delivery.tenant_id) {
        const reason = 'endpoint deleted';
        writes.push({
          delivery,
          events: [{ ...DELIVERY_EVENTS.DeadLettered, data: { attempts: delivery.attempts - 1, reason } }],
          final: { status: 'dead_lettered', lastError: reason },
        });
      } else if (endpoint.status === 'paused' || endpoint.status === 'disabled') {
        const reason = `endpoint ${endpoint.status}`;
        const fallback = p1Fallback(delivery, endpoint, reason);
        writes.push({
          delivery,
          events: [{ ...DELIVERY_EVENTS.Skipped, data: { reason } }, ...(fallback ? [fallback.event] : [])],
          final: { status: 'skipped', lastError: reason },
          fallback: fallback?.delivery,
        });
      } else {
        const data: AttemptStartedData = { attempt: delivery.attempts, url: endpoint.url };
        writes.push({ delivery, events: [{ ...DELIVERY_EVENTS.AttemptStarted, data }] });
        ready.push({ delivery, endpoint });
      }
    }
    await this.deliveries.recordClaimed(manager, writes);
    return { ready, finished: writes.flatMap(({ final }) => (final ? [final] : [])) };
  }

  /**
   * What an attempt sends, by the endpoint's type, or why it cannot be made: a secret (or
   * routing key) the keys cannot open fails this endpoint only. A webhook is the signed
   * DESIGN §5 body to the endpoint's URL; a PagerDuty endpoint's is an Events API v2 event
   * to PAGERDUTY_EVENTS_URL, which PagerDuty authenticates by its routing key; a Slack
   * endpoint's is a Block Kit message to its incoming webhook, whose URL is the secret; an
   * email endpoint's is a message to its recipients through TOCSIN_SMTP_URL.
   */
  private prepare({ delivery, endpoint }: Claimed, now: Date): Outgoing {
    // The row's body was written from a WebhookBody by the fan-out (enqueue), minus its stamp.
    const stamped = { ...delivery.body, delivered_at: now.toISOString() } as WebhookBody;
    const json = (url: string, message: unknown): Outgoing => ({
      http: {
        url,
        method: 'POST',
        timeoutMs: endpoint.timeout_ms,
        body: JSON.stringify(message),
        headers: { 'content-type': 'application/json', 'user-agent': USER_AGENT },
      },
    });
    try {
      switch (endpoint.type) {
        case 'pagerduty':
          return json(this.config.PAGERDUTY_EVENTS_URL, pagerDutyEvent(stamped, openSecret(this.box, endpoint.id, endpoint.secret)));
        case 'slack':
          return json(openSecret(this.box, endpoint.id, endpoint.secret), slackMessage(stamped));
        case 'email':
          return { mail: { to: mailRecipients(endpoint.url), email: alertEmail(stamped, delivery.id), timeoutMs: endpoint.timeout_ms } };
        case 'kafka':
          return {
            kafka: {
              endpointId: endpoint.id,
              destination: parseKafkaDestination(openSecret(this.box, endpoint.id, endpoint.secret)),
              key: delivery.dedup_key,
              value: JSON.stringify(stamped),
              headers: { 'x-tocsin-event': delivery.event_type, 'x-tocsin-delivery-id': delivery.id, 'x-tocsin-attempt': String(delivery.attempts) },
              timeoutMs: endpoint.timeout_ms,
            },
          };
        case 'webhook':
          break;
      }
      const body = JSON.stringify(stamped);
      const signature = signWebhook({ webhookId: delivery.id, timestamp: now, body, secrets: signingSecrets(this.box, endpoint, now) });
      return {
        http: {
          url: endpoint.url,
          method: endpoint.method,
          timeoutMs: endpoint.timeout_ms,
          body,
          headers: {
            ...endpointHeaders(this.box, endpoint),
            'content-type': 'application/json',
            'user-agent': USER_AGENT,
            ...signature,
            'x-tocsin-event': delivery.event_type,
            'x-tocsin-attempt': String(delivery.attempts),
          },
        },
      };
    } catch (err) {
      if (!(err instanceof SecretsError)) throw err;
      return { unreadable: `endpoint secret cannot be opened: ${err.message}` };
    }
  }

  private send(outgoing: Outgoing): Promise<WebhookResponse> {
    if ('http' in outgoing) return this.client.send(outgoing.http);
    if ('mail' in outgoing) return this.mail.send(outgoing.mail);
    if ('kafka' in outgoing) return this.kafka.send(outgoing.kafka);
    return Promise.resolve({ result: { kind: 'error', errorClass: 'secret_unreadable', message: outgoing.unreadable }, durationMs: 0, snippet: null });
  }

  private async attempt({ delivery, endpoint }: Claimed): Promise<void> {
    // Each attempt is a span in the delivery's trace, which began with the probe result.
    const span = this.tracing.startSpan('webhook attempt', {
      parent: delivery.traceparent ? { traceparent: delivery.traceparent } : {},
      kind: SpanKind.CLIENT,
      attributes: {
        'tocsin.tenant_id': delivery.tenant_id,
        'tocsin.endpoint_id': endpoint.id,
        'tocsin.delivery_id': delivery.id,
        'tocsin.event': delivery.event_type,
        'tocsin.attempt': delivery.attempts,
        'http.request.method': endpoint.method,
      },
    });
    const outgoing = this.prepare({ delivery, endpoint }, new Date());
    const response = await this.tracing.withSpan(span, () => this.send(outgoing));
    const finishedAt = new Date();
    // The schedule counts from the latest redelivery, so a redelivered webhook gets its full set of retries.
    const verdict = handOverUnreadable(
      judgeAttempt(response.result, delivery.attempts - delivery.schedule_offset, endpoint.retry_schedule_seconds, finishedAt),
      delivery,
      endpoint,
    );
    span.setAttribute('tocsin.outcome', verdict.kind);
    if (response.result.kind === 'response') span.setAttribute('http.response.status_code', response.result.status);
    if (verdict.kind !== 'delivered') span.setStatus({ code: SpanStatusCode.ERROR, message: verdict.errorClass });
    span.end(finishedAt);
    this.attempts.inc({ outcome: verdict.kind });
    this.latency.observe(response.durationMs / 1000);
    const [outcome, update] = outcomeEvents(delivery, verdict, response, requestBytes(outgoing), finishedAt);
    // A P1 that dead-letters goes out by the endpoint's fallback, created with this outcome.
    const fallback = verdict.kind === 'dead_letter' ? p1Fallback(delivery, endpoint, verdict.reason) : null;
    const events = fallback ? [...outcome, fallback.event] : outcome;
    await new Promise<void>((done, failed) => {
      const lane = this.lanes[laneOf(endpoint.id)]!;
      this.unwritten++;
      lane.pending.push({
        record: { delivery, events, update, fallback: fallback?.delivery },
        attempt: {
          endpointId: endpoint.id,
          tenantId: endpoint.tenant_id,
          deliveryId: delivery.id,
          at: finishedAt,
          succeeded: verdict.kind === 'delivered',
          // The receiver is not to blame for a secret Tocsin cannot open: no breaker failure.
          retriable:
            verdict.kind !== 'delivered' &&
            verdict.errorClass !== 'secret_unreadable' &&
            (verdict.kind === 'retry' || isRetriableClass(verdict.errorClass)),
          slow: verdict.kind === 'delivered' && response.durationMs > this.config.TOCSIN_BREAKER_SLOW_MS,
          disable: verdict.kind === 'dead_letter' && verdict.disableEndpoint ? verdict.reason : null,
        },
        done,
        failed,
      });
      this.scheduleFlush(lane);
    });
    this.countFinished(update);
  }

  private countFinished({ status }: DeliveryUpdate): void {
    if (status === 'delivered' || status === 'dead_lettered' || status === 'skipped') this.finished.inc({ outcome: status });
  }

  /**
   * Outcomes are written in batches by FLUSH_LANES transactions at once, one batch is
   * recorded while the next is gathered. Each endpoint belongs to one lane, so two lanes
   * never wait on each other's endpoint locks (the health projection holds them to
   * commit). A lane flushes at once when no attempt is waiting on its receiver, else
   * after COALESCE_MS or COALESCE_AT outcomes, whichever comes first.
   */
  private scheduleFlush(lane: FlushLane): void {
    if (lane.running) return;
    const awaitingReceivers = this.inFlight.size - this.unwritten;
    if (awaitingReceivers > 0 && lane.pending.length < COALESCE_AT && !this.stopping) {
      lane.timer ??= setTimeout(() => {
        lane.timer = null;
        this.startFlush(lane);
      }, COALESCE_MS);
      return;
    }
    this.startFlush(lane);
  }

  private startFlush(lane: FlushLane): void {
    if (lane.timer) {
      clearTimeout(lane.timer);
      lane.timer = null;
    }
    if (lane.running || lane.pending.length === 0) return;
    lane.running = (async () => {
      while (lane.pending.length > 0) {
        const batch = lane.pending.splice(0, MAX_FLUSH);
        try {
          await this.writeIsolating(batch);
        } finally {
          this.unwritten -= batch.length;
        }
        // The slots these outcomes freed are claimed again straight away.
        if (!this.stopping) this.loop.nudge();
      }
    })().finally(() => {
      lane.running = null;
    });
  }

  /**
   * Writes a lane's outcomes in one transaction. A lane holds many tenants' outcomes, so
   * one that fails on its data (a receiver's answer the sanitiser missed) must not roll
   * back the others, whose webhooks would then go out again: the batch is split in halves
   * until the outcome at fault stands alone, which is written again without the
   * receiver's text, and failing that, left to its lease (the reaper bounds how often).
   */
  private async writeIsolating(batch: readonly Finished[]): Promise<void> {
    try {
      await this.writeOutcomes(batch.map((f) => f.record), batch.map((f) => f.attempt));
      for (const f of batch) f.done();
    } catch (err) {
      if (!isDataError(err)) {
        for (const f of batch) f.failed(err as Error);
        return;
      }
      if (batch.length > 1) {
        const half = Math.ceil(batch.length / 2);
        await this.writeIsolating(batch.slice(0, half));
        await this.writeIsolating(batch.slice(half));
        return;
      }
      const [one] = batch as [Finished];
      this.logger.warn(`outcome of delivery ${one.record.delivery.id} could not be stored (${(err as Error).message}); storing it without the receiver's text`);
      try {
        await this.writeOutcomes([withoutReceiverText(one.record, (err as Error).message)], [one.attempt]);
        one.done();
      } catch (again) {
        one.failed(again as Error);
      }
    }
  }

  private async writeOutcomes(records: readonly DeliveryRecord[], attempts: readonly EndpointAttempt[]): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const written = await this.deliveries.record(manager, records);
      await this.health.record(manager, attempts.filter((a) => written.has(a.deliveryId)));
    });
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await this.loop.stop();
    this.lanes.forEach((lane) => this.startFlush(lane));
    await Promise.allSettled([...this.inFlight]);
    await Promise.allSettled(this.lanes.map((lane) => lane.running));
    await this.client.close();
    this.mail.close();
    await this.kafka.close();
  }
}

/**
 * A P1 whose endpoint's secret cannot be opened does not wait out the schedule for an
 * operator to bring the key back: when the endpoint names a fallback, the delivery
 * dead-letters now and the fallback takes it. Without one it is retried as any other.
 */
function handOverUnreadable(verdict: Verdict, delivery: ClaimedDelivery, endpoint: EndpointEntity): Verdict {
  if (verdict.kind !== 'retry' || verdict.errorClass !== 'secret_unreadable' || !p1Fallback(delivery, endpoint, '')) return verdict;
  return { kind: 'dead_letter', errorClass: 'secret_unreadable', reason: 'endpoint secret cannot be opened; handed to the fallback endpoint', disableEndpoint: false };
}

function isRetriableClass(errorClass: string): boolean {
  return ['http_5xx', 'timeout', 'connection', 'http_408_429', 'smtp_deferred', 'kafka_unavailable'].includes(errorClass);
}

function outcomeEvents(
  delivery: ClaimedDelivery,
  verdict: Verdict,
  response: WebhookResponse,
  requestBytes: number,
  now: Date,
): [NewEvent[], DeliveryUpdate] {
  const attempt = delivery.attempts;
  const status = response.result.kind === 'response' ? response.result.status : null;
  // Both come from the receiver (or its network): made storable before they reach a batch.
  const snippet = response.snippet === null ? null : storableText(response.snippet, SNIPPET_CHARS);
  if (verdict.kind === 'delivered') {
    const data: AttemptSucceededData = {
      attempt,
      http_status: status ?? 0,
      duration_ms: response.durationMs,
      request_bytes: requestBytes,
      response_snippet: snippet ?? '',
    };
    return [[{ ...DELIVERY_EVENTS.AttemptSucceeded, data }], { status: 'delivered', lastHttpStatus: status }];
  }
  const error = response.result.kind === 'error' ? storableText(response.result.message, ERROR_CHARS) : status ? `HTTP ${status}` : null;
  const failed: AttemptFailedData = {
    attempt,
    http_status: status,
    duration_ms: response.durationMs,
    request_bytes: requestBytes,
    response_snippet: snippet,
    error_class: verdict.errorClass,
    error,
    retriable: verdict.kind === 'retry',
  };
  const failedEvent: NewEvent = { ...DELIVERY_EVENTS.AttemptFailed, data: failed };
  if (verdict.kind === 'retry') {
    const dueAt = new Date(now.getTime() + verdict.delaySeconds * 1000);
    return [
      [failedEvent, { ...DELIVERY_EVENTS.RetryScheduled, data: { next_attempt: attempt + 1, due_at: dueAt.toISOString() } }],
      { status: 'retrying', nextAttemptAt: dueAt, lastHttpStatus: status, lastError: error },
    ];
  }
  return [
    [failedEvent, { ...DELIVERY_EVENTS.DeadLettered, data: { attempts: attempt, reason: verdict.reason } }],
    { status: 'dead_lettered', lastHttpStatus: status, lastError: verdict.reason },
  ];
}

/**
 * The outcome as recorded when what the receiver sent cannot be stored: the verdict and
 * the delivery's next state stay, the snippet and error text go, and the attempt says why.
 */
function withoutReceiverText(record: DeliveryRecord, reason: string): DeliveryRecord {
  const note = storableText(`unstorable_outcome: ${reason}`, ERROR_CHARS);
  const events = record.events.map((event): NewEvent => {
    if (event.type === DELIVERY_EVENTS.AttemptSucceeded.type) {
      return { ...event, data: { ...(event.data as AttemptSucceededData), response_snippet: '' } };
    }
    if (event.type === DELIVERY_EVENTS.AttemptFailed.type) {
      return { ...event, data: { ...(event.data as AttemptFailedData), response_snippet: null, error: note } };
    }
    return event;
  });
  const update = record.update.lastError === undefined || record.update.lastError === null ? record.update : { ...record.update, lastError: note };
  return { ...record, events, update };
}
