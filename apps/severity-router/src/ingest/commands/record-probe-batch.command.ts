import { Command } from '@nestjs/cqrs';

import type { ConsumedBatch } from '@tocsin/kafka';

export interface BatchOutcome {
  readonly applied: number;
  readonly replayed: number;
  readonly duplicates: number;
  readonly rejected: number;
  readonly alerts: number;
}

/** Applies one partition's batch of probe results in one transaction with its offsets. */
export class RecordProbeBatchCommand extends Command<BatchOutcome> {
  constructor(readonly batch: ConsumedBatch) {
    super();
  }
}
