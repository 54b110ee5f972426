import { Command } from '@nestjs/cqrs';

import type { ConsumedBatch } from '@tocsin/kafka';

export interface FanOutOutcome {
  readonly created: number;
  readonly replayed: number;
  readonly invalid: number;
}

/** Turns one partition's batch of alerts into deliveries, in one transaction with its offsets. */
export class FanOutAlertsCommand extends Command<FanOutOutcome> {
  constructor(readonly batch: ConsumedBatch) {
    super();
  }
}
