import { Injectable } from '@nestjs/common';
import { HEADERS, monitorKey, PROBE_RESULT_SCHEMA, type ProbeResult } from '@tocsin/contracts';
import { KafkaProducerService, type OutgoingRecord } from '@tocsin/kafka';

interface Pending {
  record: OutgoingRecord;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** A batch larger than this waits for the next send (keeps one request well under Kafka's limits). */
const MAX_BATCH = 500;

/**
 * Publishes probe results with group commit: while one send is in flight, results queue up
 * and go out together in the next one. The idempotent producer allows one request in flight,
 * so sending each result on its own would cap a replica at one broker round trip per probe.
 */
@Injectable()
export class ProbeResultPublisher {
  private queue: Pending[] = [];
  private sending = false;

  constructor(private readonly producer: KafkaProducerService) {}

  /** Resolves once Kafka acknowledged the record (acks=all, idempotent producer). */
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
          await this.producer.send(
            this.producer.topics.probeResults,
            batch.map((p) => p.record),
          );
          for (const p of batch) p.resolve();
        } catch (err) {
          for (const p of batch) p.reject(err);
        }
      }
    } finally {
      this.sending = false;
    }
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
    },
  };
}
