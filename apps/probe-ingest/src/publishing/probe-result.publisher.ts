import { Injectable, Logger } from '@nestjs/common';
import { HEADERS, monitorKey, PROBE_RESULT_SCHEMA, type ProbeResult } from '@tocsin/contracts';
import { deadLetter, dlqRecords, KafkaProducerService, type OutgoingRecord } from '@tocsin/kafka';
import { MetricsRegistry, traceHeaders } from '@tocsin/runtime';

/** A result Kafka can never take (too large, refused as invalid); its copy went to the DLQ. */
export class ResultRefusedError extends Error {
  override readonly name = 'ResultRefusedError';
}

interface Pending {
  record: OutgoingRecord;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** A batch larger than this waits for the next send (keeps one request well under Kafka's limits). */
const MAX_BATCH = 500;

/**
 * Publishes probe results with group commit: while one send is in flight, results queue up
 * and go out together in the next one. The producer allows one request in flight (to keep order),
 * so sending each result on its own would cap a replica at one broker round trip per probe.
 */
@Injectable()
export class ProbeResultPublisher {
  private readonly logger = new Logger(ProbeResultPublisher.name);
  private queue: Pending[] = [];
  private sending = false;
  private readonly deadLettered: (reasons: readonly string[]) => void;

  constructor(
    private readonly producer: KafkaProducerService,
    metrics: MetricsRegistry,
  ) {
    this.deadLettered = dlqRecords(metrics);
  }

  /** Resolves once Kafka acknowledged the record (acks=all); it carries the active span's trace. */
  publish(result: ProbeResult): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ record: toRecord(result), resolve, reject });
      if (!this.sending) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.sending = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.slice(0, MAX_BATCH);
        this.queue = this.queue.slice(batch.length);
        try {
          // One result Kafka refuses (too large) fails alone; the others in the send go out.
          const refused = await this.producer.sendIsolated(
            this.producer.topics.probeResults,
            batch.map((p) => p.record),
          );
          if (refused.size > 0) await this.deadLetter(batch, refused);
          batch.forEach((p, index) => {
            const reason = refused.get(index);
            if (reason === undefined) p.resolve();
            else p.reject(new ResultRefusedError(reason));
          });
        } catch (err) {
          for (const p of batch) p.reject(err);
        }
      }
    } finally {
      this.sending = false;
    }
  }

  /** The refused results' copies, cut to what the DLQ holds, so the refusal is visible. */
  private async deadLetter(batch: readonly Pending[], refused: ReadonlyMap<number, string>): Promise<void> {
    const topic = this.producer.topics.probeResults;
    const copies = [...refused].map(([index, reason]) => {
      const { record } = batch[index]!;
      this.logger.warn(`probe result for ${record.key} refused by Kafka: ${reason}`);
      return deadLetter({ topic, key: record.key, value: Buffer.from(JSON.stringify(record.value)), headers: record.headers }, reason);
    });
    await this.producer.send(this.producer.topics.probeResultsDlq, copies).then(
      () => this.deadLettered([...refused.values()]),
      (err: Error) => this.logger.error(`could not dead-letter ${copies.length} refused probe results: ${err.message}`),
    );
  }
}

function toRecord(result: ProbeResult): OutgoingRecord {
  return {
    key: monitorKey(result.tenant_id, result.monitor_id),
    value: result,
    headers: {
      [HEADERS.contentType]: 'application/json',
      [HEADERS.schema]: PROBE_RESULT_SCHEMA,
      [HEADERS.tenantId]: result.tenant_id,
      ...traceHeaders(),
    },
  };
}
