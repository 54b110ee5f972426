import { Counter, Gauge, type Registry } from 'prom-client';
import { DLQ_REASON_CLASSES, dlqReasonClass } from './dead-letter';

/** What a consumer reports about its partitions, for `tocsin_consumer_lag`. */
export interface LagReporter {
  /** The partitions this member was given by the group (the others' series are dropped). */
  assigned(assignment: Readonly<Record<string, readonly number[]>>): void;
  /** Records left after the batch just handled, up to the partition's end when it was fetched. */
  lag(topic: string, partition: number, records: number): void;
}

/** `tocsin_consumer_lag{group,topic,partition}`: one series per partition this member owns. */
export function consumerLag(metrics: Registry, group: string): LagReporter {
  const gauge = new Gauge({
    name: 'tocsin_consumer_lag',
    help: 'Records of a partition this consumer owns that it has not handled yet, as of its last fetch',
    labelNames: ['group', 'topic', 'partition'],
    registers: [metrics],
  });
  return {
    // Until a partition's first fetch answers, its lag shows as 0 (kafkajs hands no empty
    // batches to the handler, so an idle partition would otherwise have no series at all).
    assigned(assignment) {
      gauge.reset();
      for (const [topic, partitions] of Object.entries(assignment)) {
        for (const partition of partitions) gauge.set({ group, topic, partition: String(partition) }, 0);
      }
    },
    lag(topic, partition, records) {
      gauge.set({ group, topic, partition: String(partition) }, records);
    },
  };
}

/** `tocsin_dlq_records_total{reason}`: copies sent to the DLQ, counted once Kafka took them. */
export function dlqRecords(metrics: Registry): (reasons: readonly string[]) => void {
  const counter = new Counter({
    name: 'tocsin_dlq_records_total',
    help: 'Records copied to the probe-results DLQ, by the class of their reason',
    labelNames: ['reason'],
    registers: [metrics],
  });
  for (const reason of DLQ_REASON_CLASSES) counter.inc({ reason }, 0);
  return (reasons) => {
    for (const reason of reasons) counter.inc({ reason: dlqReasonClass(reason) });
  };
}
