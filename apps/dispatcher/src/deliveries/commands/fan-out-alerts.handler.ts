import { Inject, Logger } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { DataSource } from 'typeorm';
import type { TocsinConfig } from '@tocsin/config';
import { alertEventSchema, describeIssues, parseWith } from '@tocsin/contracts';
import type { EndpointEntity } from '@tocsin/database';
import { freshRecords, markProcessed, storeOffset } from '@tocsin/event-store';
import { TOCSIN_CONFIG } from '@tocsin/runtime';
import { endpointMatches } from '../../endpoints/endpoint-matcher';
import { DeliveryRepository } from '../delivery.repository';
import { webhookBody } from '../webhook-body';
import { FanOutAlertsCommand, type FanOutOutcome } from './fan-out-alerts.command';

export const DISPATCHER_GROUP = (namespace: string) => `${namespace}tocsin.dispatcher`;

@CommandHandler(FanOutAlertsCommand)
export class FanOutAlertsHandler implements ICommandHandler<FanOutAlertsCommand, FanOutOutcome> {
  private readonly logger = new Logger(FanOutAlertsHandler.name);
  private readonly group: string;

  constructor(
    private readonly dataSource: DataSource,
    private readonly deliveries: DeliveryRepository,
    @Inject(TOCSIN_CONFIG) private readonly config: TocsinConfig,
  ) {
    this.group = DISPATCHER_GROUP(config.TOCSIN_TOPIC_NAMESPACE);
  }

  async execute({ batch }: FanOutAlertsCommand): Promise<FanOutOutcome> {
    const { topic, partition, records } = batch;
    const scope = { group: this.group, clusterId: batch.clusterId, topic, partition };
    return this.dataSource.transaction(async (manager) => {
      const { fresh, replayed: skipped, staleOffset } = await freshRecords(manager, scope, records, batch.highWatermark);
      if (staleOffset !== undefined) {
        this.logger.warn(`${topic}[${partition}]: stored offset ${staleOffset} is past the end (${batch.highWatermark}); the topic was re-created, starting over`);
      }
      let created = 0;
      let replayed = skipped;
      let invalid = 0;
      for (const record of fresh) {
        const parsed = parseAlert(record.value);
        if (!parsed.ok) {
          // Alerts come only from the router's outbox; a bad one is a bug to see, not to retry forever.
          invalid++;
          this.logger.error(`skipping invalid alert ${topic}[${partition}]@${record.offset}: ${parsed.reason}`);
          continue;
        }
        const alert = parsed.value;
        if (!(await markProcessed(manager, this.group, alert.event_id))) {
          replayed++;
          continue;
        }
        const endpoints: EndpointEntity[] = await manager.query(
          'SELECT * FROM endpoints WHERE tenant_id = $1 ORDER BY created_at',
          [alert.tenant_id],
        );
        const body = webhookBody(alert, this.config.TOCSIN_DASHBOARD_URL);
        for (const endpoint of endpoints.filter((e) => endpointMatches(e, alert))) {
          if (await this.deliveries.create(manager, alert, endpoint, body)) created++;
        }
      }
      const last = records.at(-1);
      if (last) await storeOffset(manager, scope, BigInt(last.offset) + 1n, staleOffset !== undefined);
      return { created, replayed, invalid };
    });
  }
}

function parseAlert(value: Buffer | null) {
  try {
    const parsed = parseWith(alertEventSchema, JSON.parse(value?.toString('utf8') ?? ''));
    return parsed.ok ? parsed : { ok: false as const, reason: describeIssues(parsed.issues) };
  } catch {
    return { ok: false as const, reason: 'value is not valid JSON' };
  }
}
