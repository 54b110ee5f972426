import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { CompressionTypes, Kafka, Partitioners, type Message, type Producer } from 'kafkajs';
import { KAFKA_OPTIONS, type KafkaModuleOptions } from './kafka.options';

export interface OutgoingRecord {
  readonly key: string;
  readonly value: unknown;
  readonly headers: Record<string, string>;
}

/** One idempotent producer per process; every send is awaited by its caller. */
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
        idempotent: true,
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

  async send(topic: string, records: readonly OutgoingRecord[]): Promise<void> {
    if (records.length === 0) return;
    const producer = await this.connect();
    const messages: Message[] = records.map((r) => ({
      key: r.key,
      value: typeof r.value === 'string' || Buffer.isBuffer(r.value) ? r.value : JSON.stringify(r.value),
      headers: r.headers,
    }));
    await producer.send({ topic, messages, acks: -1, compression: CompressionTypes.None });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.producer?.disconnect();
    this.producer = undefined;
  }
}
