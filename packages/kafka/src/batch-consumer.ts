import { Logger } from '@nestjs/common';
import type { Consumer, EachBatchPayload, IHeaders, Kafka } from 'kafkajs';
import type { LagReporter } from './kafka-metrics';
import { headerText } from './headers';

export interface ConsumedRecord {
  readonly offset: string;
  readonly key: string | null;
  readonly value: Buffer | null;
  readonly headers: Record<string, string>;
}

export interface ConsumedBatch {
  /** Offsets are only meaningful within one cluster; stored offsets are keyed by it. */
  readonly clusterId: string;
  readonly topic: string;
  readonly partition: number;
  /** The partition's end when the batch was fetched: a stored offset beyond it is stale. */
  readonly highWatermark: string;
  readonly records: readonly ConsumedRecord[];
}

export interface BatchConsumerOptions {
  readonly groupId: string;
  readonly topic: string;
  /** More topics by name pattern; kafkajs matches it against the topics existing at start. */
  readonly pattern?: RegExp;
  /** Partitions whose batches are handled at once (kafkajs partitionsConsumedConcurrently); default 1. */
  readonly concurrency?: number;
  /** The most a fetch takes from one partition (kafkajs maxBytesPerPartition); default kafkajs's 1 MiB. */
  readonly maxBytesPerPartition?: number;
  /** Told the partitions this member owns and what is left of each after every batch. */
  readonly lag?: LagReporter;
  /**
   * How long the group waits for a member that stopped heartbeating (kafkajs sessionTimeout);
   * default 10 s. A consumer that crashed or lost its broker rejoins as a new member, and its
   * partitions wait this long for the old one to be declared gone.
   */
  readonly sessionTimeoutMs?: number;
}

/** A record's headers as text, in a plain loop: this runs for every record consumed. */
function textHeaders(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (headers) {
    for (const name of Object.keys(headers)) {
      const text = headerText(headers, name);
      if (text !== undefined) out[name] = text;
    }
  }
  return out;
}

/**
 * A consumer whose handler applies each batch transactionally (storing offsets with its
 * effects); the Kafka offset is committed only after the handler returned. A handler that
 * throws leaves the offset where it was, so kafkajs retries the batch.
 */
/** How long a consumer kafkajs gave up on waits before a new member joins. */
const RESTART_DELAY_MS = 1_000;

export class TransactionalBatchConsumer {
  private readonly logger: Logger;
  private consumer: Consumer | undefined;
  private joinedGroup = false;
  private stopping = false;
  private clusterId = '';

  constructor(
    private readonly kafka: Kafka,
    private readonly options: BatchConsumerOptions,
  ) {
    this.logger = new Logger(`consumer:${options.topic}`);
  }

  get joined(): boolean {
    return this.joinedGroup;
  }

  async start(handle: (batch: ConsumedBatch) => Promise<void>): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      this.clusterId = (await admin.describeCluster()).clusterId;
    } finally {
      await admin.disconnect();
    }
    const consumer = this.kafka.consumer({
      groupId: this.options.groupId,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: 100,
      sessionTimeout: this.options.sessionTimeoutMs ?? 10_000,
      // A third of the session or less, as Kafka advises, and often enough to notice a rebalance early.
      heartbeatInterval: Math.min(1_000, Math.floor((this.options.sessionTimeoutMs ?? 10_000) / 3)),
      ...(this.options.maxBytesPerPartition === undefined ? {} : { maxBytesPerPartition: this.options.maxBytesPerPartition }),
    });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      this.joinedGroup = true;
      this.options.lag?.assigned(payload.memberAssignment);
    });
    consumer.on(consumer.events.CRASH, (e) => {
      this.joinedGroup = false;
      this.logger.error(`consumer crashed: ${e.payload.error.message}`);
      // kafkajs restarts a consumer after a retriable crash only. Others (e.g. "Failed to
      // find group coordinator" while a broker restarts) would leave it stopped for good,
      // and every record after it unread: start a new member after a pause instead.
      if (!e.payload.restart && !this.stopping) this.restartAfter(RESTART_DELAY_MS, consumer, handle);
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [this.options.topic, ...(this.options.pattern ? [this.options.pattern] : [])], fromBeginning: true });
    await consumer.run({
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.concurrency ?? 1,
      autoCommit: false,
      eachBatch: (payload) => this.onBatch(payload, handle),
    });
    this.logger.log(`consuming as group ${this.options.groupId}`);
  }

  private async onBatch(
    { batch, resolveOffset, commitOffsetsIfNecessary, heartbeat }: EachBatchPayload,
    handle: (batch: ConsumedBatch) => Promise<void>,
  ): Promise<void> {
    if (batch.messages.length === 0) return;
    await handle({
      clusterId: this.clusterId,
      topic: batch.topic,
      partition: batch.partition,
      highWatermark: batch.highWatermark,
      records: batch.messages.map((m) => ({
        offset: m.offset,
        key: m.key?.toString('utf8') ?? null,
        value: m.value,
        headers: textHeaders(m.headers),
      })),
    });
    const next = (BigInt(batch.lastOffset()) + 1n).toString();
    resolveOffset(batch.lastOffset());
    this.options.lag?.lag(batch.topic, batch.partition, Math.max(0, Number(batch.offsetLag())));
    await commitOffsetsIfNecessary({ topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: next }] }] });
    await heartbeat();
  }

  private restartAfter(delayMs: number, crashed: Consumer, handle: (batch: ConsumedBatch) => Promise<void>): void {
    setTimeout(() => {
      if (this.stopping || this.consumer !== crashed) return;
      void crashed
        .disconnect()
        .catch(() => undefined)
        .then(() => this.start(handle))
        .then(() => this.logger.warn('consumer restarted after a crash kafkajs does not recover from'))
        .catch((err: Error) => {
          this.logger.error(`consumer restart failed, trying again: ${err.message}`);
          this.restartAfter(Math.min(delayMs * 2, 30_000), this.consumer ?? crashed, handle);
        });
    }, delayMs).unref();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.joinedGroup = false;
    await this.consumer?.disconnect();
  }
}
