import { createHash } from 'node:crypto';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { storableText } from '@tocsin/contracts';
import type { KafkaDestinationConfig } from '@tocsin/delivery-queue';
import { isPermanentSendError, saslOptions } from '@tocsin/kafka';
import type { HttpResult } from '../deliveries/attempt-outcome';
import { beforeDeadline } from './deadline';
import type { WebhookResponse } from './webhook-client';

export interface KafkaRequest {
  readonly endpointId: string;
  readonly destination: KafkaDestinationConfig;
  readonly key: string;
  readonly value: string;
  readonly headers: Record<string, string>;
  readonly timeoutMs: number;
}

/** A producer not used for this long is disconnected; the next record connects again. */
const IDLE_MS = 5 * 60_000;
/** Broker answers that say the record, the topic or the credentials are wrong: no retry cures them. */
const REFUSED_TYPES = new Set([
  'UNKNOWN_TOPIC_OR_PARTITION',
  'TOPIC_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
  'SASL_AUTHENTICATION_FAILED',
  'INVALID_TOPIC_EXCEPTION',
  'UNSUPPORTED_SASL_MECHANISM',
]);

interface Held {
  readonly fingerprint: string;
  readonly producer: Promise<Producer>;
  lastUsed: number;
}

/**
 * Sends `kafka` endpoints' records to each tenant's own cluster: one producer per endpoint,
 * kept while it is used (and replaced when the endpoint's cluster changes), with
 * kafkajs's own retries off so the endpoint's schedule decides, as for any delivery. A
 * record is keyed by the incident's dedup key, so one incident's records keep their order
 * on one partition; acks from every in-sync replica.
 */
export class KafkaDestinationClient {
  private readonly producers = new Map<string, Held>();

  async send(req: KafkaRequest): Promise<WebhookResponse> {
    const started = performance.now();
    const answer = (result: HttpResult, snippet: string | null): WebhookResponse => ({
      result,
      durationMs: Math.round(performance.now() - started),
      snippet: snippet === null ? null : storableText(snippet, 512),
    });
    try {
      const sent = this.producerFor(req).then((producer) =>
        producer.send({
          topic: req.destination.topic,
          acks: -1,
          timeout: req.timeoutMs,
          messages: [{ key: req.key, value: req.value, headers: req.headers }],
        }),
      );
      const outcome = await beforeDeadline(sent, req.timeoutMs);
      if (outcome === 'timeout') {
        this.drop(req.endpointId);
        return answer({ kind: 'error', errorClass: 'kafka_unavailable', message: `the cluster did not take the record within ${req.timeoutMs} ms` }, null);
      }
      const [meta] = outcome;
      return answer({ kind: 'accepted' }, meta ? `partition ${meta.partition} offset ${meta.baseOffset ?? meta.offset ?? '?'}` : 'accepted');
    } catch (err) {
      const message = storableText((err as Error).message, 500);
      if (isRefused(err)) return answer({ kind: 'error', errorClass: 'kafka_rejected', message }, null);
      this.drop(req.endpointId);
      return answer({ kind: 'error', errorClass: 'kafka_unavailable', message }, null);
    }
  }

  /** Disconnects the producers no endpoint has used for a while. */
  async closeIdle(now = Date.now()): Promise<void> {
    const idle = [...this.producers].filter(([, held]) => now - held.lastUsed > IDLE_MS).map(([id]) => id);
    await Promise.allSettled(idle.map((id) => this.drop(id)));
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.producers.keys()].map((id) => this.drop(id)));
  }

  private producerFor(req: KafkaRequest): Promise<Producer> {
    const fingerprint = createHash('sha256').update(JSON.stringify(req.destination)).digest('hex');
    const held = this.producers.get(req.endpointId);
    if (held && held.fingerprint === fingerprint) {
      held.lastUsed = Date.now();
      return held.producer;
    }
    if (held) void this.drop(req.endpointId);
    const { brokers, sasl, ssl } = req.destination;
    const kafka = new Kafka({
      clientId: 'tocsin-dispatcher',
      brokers: [...brokers],
      logLevel: logLevel.NOTHING,
      connectionTimeout: Math.min(req.timeoutMs, 10_000),
      requestTimeout: req.timeoutMs,
      retry: { retries: 0 },
      ...(ssl ? { ssl: true } : {}),
      ...(sasl ? { sasl: saslOptions(sasl) } : {}),
    });
    const producer = kafka.producer({ allowAutoTopicCreation: false, idempotent: false, retry: { retries: 0 } });
    const connected = producer.connect().then(() => producer);
    const entry: Held = { fingerprint, producer: connected, lastUsed: Date.now() };
    // A producer that never connected is not kept: the next attempt tries afresh.
    connected.catch(() => {
      if (this.producers.get(req.endpointId) === entry) this.producers.delete(req.endpointId);
    });
    this.producers.set(req.endpointId, entry);
    return connected;
  }

  private async drop(endpointId: string): Promise<void> {
    const held = this.producers.get(endpointId);
    if (!held) return;
    this.producers.delete(endpointId);
    await held.producer.then((p) => p.disconnect()).catch(() => undefined);
  }
}

function isRefused(err: unknown): boolean {
  if (isPermanentSendError(err)) return true;
  for (let cause: unknown = err, depth = 0; cause instanceof Error && depth < 5; depth++) {
    const type = (cause as { type?: unknown }).type;
    if (typeof type === 'string' && REFUSED_TYPES.has(type)) return true;
    if (cause.name === 'KafkaJSSASLAuthenticationError') return true;
    cause = (cause as { cause?: unknown }).cause ?? (cause as { originalError?: unknown }).originalError;
  }
  return false;
}
