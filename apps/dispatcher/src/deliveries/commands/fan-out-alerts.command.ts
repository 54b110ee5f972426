import { Command } from '@nestjs/cqrs';

import type { ConsumedRecord } from '@tocsin/kafka';

export type AlertRecord = Pick<ConsumedRecord, 'offset' | 'value'>;

export interface FanOutOutcome {
  readonly created: number;
  readonly replayed: number;
  readonly invalid: number;
}

/** Turns one partition's batch of alerts into deliveries, in one transaction with its offsets. */
export class FanOutAlertsCommand extends Command<FanOutOutcome> {
  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly records: readonly AlertRecord[],
  ) {
    super();
  }
}
