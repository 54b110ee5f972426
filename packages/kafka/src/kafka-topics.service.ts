import { Inject, Injectable, Logger } from '@nestjs/common';
import { Kafka } from 'kafkajs';
import { KAFKA_OPTIONS, type KafkaModuleOptions } from './kafka.options';

@Injectable()
export class KafkaTopicsService {
  private readonly logger = new Logger(KafkaTopicsService.name);

  constructor(
    private readonly kafka: Kafka,
    @Inject(KAFKA_OPTIONS) private readonly options: KafkaModuleOptions,
  ) {}

  /** Creates DESIGN §2's topics when missing; existing topics are left as they are. */
  async ensureTopics(): Promise<void> {
    await this.ensureNamed(Object.values(this.options.topics));
  }

  /** Creates the named topics that are missing; answers every topic name the cluster has afterwards. */
  async ensureNamed(topics: readonly string[]): Promise<string[]> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const existing = new Set(await admin.listTopics());
      const missing = topics.filter((t) => !existing.has(t));
      if (missing.length > 0) {
        await admin.createTopics({
          waitForLeaders: true,
          topics: missing.map((topic) => ({ topic, numPartitions: this.options.partitions, replicationFactor: -1 })),
        });
        this.logger.log(`created topics ${missing.join(', ')}`);
      }
      return [...existing, ...missing];
    } finally {
      await admin.disconnect();
    }
  }
}
