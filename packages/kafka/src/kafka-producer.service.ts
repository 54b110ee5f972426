import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { CompressionTypes, Kafka, Partitioners, type Message, type Producer } from 'kafkajs';
import { KAFKA_OPTIONS, type KafkaModuleOptions } from './kafka.options';

export interface OutgoingRecord {
  readonly key: string;
  readonly value: unknown;
  readonly headers: Record<string, string>;
}

/**
 * The largest record Tocsin sends. Brokers refuse a record batch over `message.max.bytes`
 * (1 MiB and 12 bytes by default, the topic's `max.message.bytes` overrides it); this stays
 * under it with room for the batch's own framing. Larger records are refused here, before
 * they reach a request shared with other records.
 */
export const MAX_RECORD_BYTES = 1_000_000;
/** Sends are cut so no request's record batch nears the broker's limit. */
const MAX_REQUEST_BYTES = MAX_RECORD_BYTES;
/** Framing per record: length, attributes, timestamp and offset deltas, header counts. */
const RECORD_OVERHEAD = 32;

/** How long a draining app waits for its producer to disconnect. */
const DISCONNECT_WAIT_MS = 5_000;

export class RecordTooLargeError extends Error {
  override readonly name = 'RecordTooLargeError';
  constructor(
    readonly bytes: number,
    readonly limit: number,
  ) {
    super(`record of ${bytes} bytes is larger than the ${limit} bytes a Kafka record may hold`);
  }
}

/** Errors no retry can cure: the broker refused what the record is, not how it was sent. */
const PERMANENT_TYPES = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE', 'INVALID_RECORD', 'CORRUPT_MESSAGE']);

/** True when an error from a send is about the records in it, not about the broker or the network. */
export function isPermanentSendError(err: unknown): boolean {
  for (let cause: unknown = err, depth = 0; cause instanceof Error && depth < 5; depth++) {
    if (cause instanceof RecordTooLargeError) return true;
    const type = (cause as { type?: unknown }).type;
    if (typeof type === 'string' && PERMANENT_TYPES.has(type)) return true;
    cause = (cause as { cause?: unknown; originalError?: unknown }).cause ?? (cause as { originalError?: unknown }).originalError;
  }
  return false;
}

/** The bytes a record takes in a record batch, near enough to keep requests under the limit. */
export function recordBytes(message: Message): number {
  let bytes = RECORD_OVERHEAD + byteLength(message.key) + byteLength(message.value);
  for (const [name, value] of Object.entries(message.headers ?? {})) bytes += Buffer.byteLength(name) + byteLength(value as string | Buffer);
  return bytes;
}

function byteLength(value: string | Buffer | null | undefined): number {
  if (value === null || value === undefined) return 0;
  return typeof value === 'string' ? Buffer.byteLength(value) : value.length;
}

function toMessage(record: OutgoingRecord): Message {
  return {
    key: record.key,
    value: typeof record.value === 'string' || Buffer.isBuffer(record.value) ? record.value : JSON.stringify(record.value),
    headers: record.headers,
  };
}

/** Consecutive runs of messages whose bytes stay under one request's limit. */
function chunkByBytes(messages: readonly Message[]): Message[][] {
  const chunks: Message[][] = [];
  let current: Message[] = [];
  let bytes = 0;
  for (const message of messages) {
    const size = recordBytes(message);
    if (current.length > 0 && bytes + size > MAX_REQUEST_BYTES) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(message);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/**
 * One producer per process; every send is awaited by its caller. It is not idempotent on
 * purpose: kafkajs's idempotent producer rolls its sequence number back when a send fails,
 * and when the broker did store that send (only its answer was lost), the next, different
 * record gets the same sequence, is taken by the broker for a retry, acknowledged and
 * dropped: an acknowledged result or alert lost. Without idempotence a retry may store a
 * record twice instead, which every consumer here already drops (a result's event_id, a
 * delivery's id); one request in flight keeps each partition's records in send order.
 */
@Injectable()
export class KafkaProducerService implements OnApplicationShutdown {
  private readonly logger = new Logger(KafkaProducerService.name);
  private producer: Producer | undefined;
  private connecting: Promise<Producer> | undefined;

  constructor(
    private readonly kafka: Kafka,
    @Inject(KAFKA_OPTIONS) private readonly options: KafkaModuleOptions,
  ) {}

  get topics() {
    return this.options.topics;
  }

  async connect(): Promise<Producer> {
    if (this.producer) return this.producer;
    this.connecting ??= (async () => {
      const producer = this.kafka.producer({
        idempotent: false,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        createPartitioner: Partitioners.DefaultPartitioner,
      });
      await producer.connect();
      this.producer = producer;
      this.logger.log('producer connected');
      return producer;
    })().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  /**
   * Sends every record or throws: a record over MAX_RECORD_BYTES throws RecordTooLargeError
   * before anything is sent. Large sends go out as several requests, in order.
   */
  async send(topic: string, records: readonly OutgoingRecord[]): Promise<void> {
    if (records.length === 0) return;
    const messages = records.map(toMessage);
    for (const message of messages) {
      const bytes = recordBytes(message);
      if (bytes > MAX_RECORD_BYTES) throw new RecordTooLargeError(bytes, MAX_RECORD_BYTES);
    }
    for (const chunk of chunkByBytes(messages)) await this.sendChunk(topic, chunk);
  }

  /**
   * Sends what can be sent and names, by index, the records that never can be (too large
   * for a record, or refused by the broker for what they are), with the reason. A send the
   * broker refuses for good is split until the refused record stands alone, so one bad
   * record never holds back the others. Errors a retry can cure (a broker away, a leader
   * moving) still throw, and the caller tries the whole send again.
   */
  async sendIsolated(topic: string, records: readonly OutgoingRecord[]): Promise<Map<number, string>> {
    const refused = new Map<number, string>();
    const indexed: Array<{ index: number; message: Message }> = [];
    records.forEach((record, index) => {
      const message = toMessage(record);
      const bytes = recordBytes(message);
      if (bytes > MAX_RECORD_BYTES) refused.set(index, new RecordTooLargeError(bytes, MAX_RECORD_BYTES).message);
      else indexed.push({ index, message });
    });
    const sendPart = async (part: Array<{ index: number; message: Message }>): Promise<void> => {
      try {
        await this.sendChunk(topic, part.map((p) => p.message));
      } catch (err) {
        if (!isPermanentSendError(err)) throw err;
        if (part.length === 1) {
          refused.set(part[0]!.index, `refused by Kafka: ${(err as Error).message}`);
          return;
        }
        const half = Math.ceil(part.length / 2);
        await sendPart(part.slice(0, half));
        await sendPart(part.slice(half));
      }
    };
    let start = 0;
    for (const chunk of chunkByBytes(indexed.map((i) => i.message))) {
      await sendPart(indexed.slice(start, start + chunk.length));
      start += chunk.length;
    }
    return refused;
  }

  private async sendChunk(topic: string, messages: Message[]): Promise<void> {
    const producer = await this.connect();
    await producer.send({ topic, messages, acks: -1, compression: CompressionTypes.None });
  }

  /**
   * Disconnects, but waits at most DISCONNECT_WAIT_MS: a connection left hanging by the
   * network (a black-holed broker) would hold a request open for its whole timeout and the
   * app's drain with it. Nothing is lost by not waiting: a send that was not acknowledged
   * has already been answered as not queued to its caller, who sends it again.
   */
  async onApplicationShutdown(): Promise<void> {
    const producer = this.producer;
    this.producer = undefined;
    if (!producer) return;
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<'gave up'>((resolve) => {
      timer = setTimeout(() => resolve('gave up'), DISCONNECT_WAIT_MS);
    });
    const outcome = await Promise.race([producer.disconnect().catch(() => undefined), waited]);
    clearTimeout(timer);
    if (outcome === 'gave up') this.logger.warn(`producer did not disconnect within ${DISCONNECT_WAIT_MS} ms; leaving it to the process exit`);
  }
}
