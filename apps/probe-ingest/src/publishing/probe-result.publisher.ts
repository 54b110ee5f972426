import { Injectable } from '@nestjs/common';
import { HEADERS, monitorKey, PROBE_RESULT_SCHEMA, type ProbeResult } from '@tocsin/contracts';
import { KafkaProducerService } from '@tocsin/kafka';

@Injectable()
export class ProbeResultPublisher {
  constructor(private readonly producer: KafkaProducerService) {}

  /** Resolves once Kafka acknowledged the record (acks=all, idempotent producer). */
  async publish(result: ProbeResult): Promise<void> {
    await this.producer.send(this.producer.topics.probeResults, [
      {
        key: monitorKey(result.tenant_id, result.monitor_id),
        value: result,
        headers: {
          [HEADERS.contentType]: 'application/json',
          [HEADERS.schema]: PROBE_RESULT_SCHEMA,
          [HEADERS.tenantId]: result.tenant_id,
        },
      },
    ]);
  }
}
