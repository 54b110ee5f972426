import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { DataSource } from 'typeorm';
import { REDELIVERABLE_STATUSES, requeueDeliveries } from '@tocsin/delivery-queue';
import { refuse, type Outcome } from '../../common/result';

export class RedeliverDeliveryCommand extends Command<Outcome<{ delivery_id: string }>> {
  constructor(readonly tenantId: string, readonly deliveryId: string) {
    super();
  }
}

/** Sends a finished delivery again under the same id, so the receiver sees the same webhook-id. */
@CommandHandler(RedeliverDeliveryCommand)
export class RedeliverDeliveryHandler implements ICommandHandler<RedeliverDeliveryCommand> {
  constructor(private readonly dataSource: DataSource) {}

  async execute({ tenantId, deliveryId }: RedeliverDeliveryCommand): Promise<Outcome<{ delivery_id: string }>> {
    return this.dataSource.transaction(async (manager) => {
      const [row]: Array<{ status: string }> = await manager.query('SELECT status FROM deliveries WHERE tenant_id = $1 AND id = $2', [
        tenantId,
        deliveryId,
      ]);
      if (!row) return refuse(404, `delivery ${deliveryId} not found`);
      const [requeued] = await requeueDeliveries(manager, tenantId, [deliveryId], 'redeliver', REDELIVERABLE_STATUSES);
      if (!requeued) return refuse(409, `delivery ${deliveryId} is ${row.status}: it is still being delivered`);
      return { ok: true, value: { delivery_id: requeued } };
    });
  }
}
