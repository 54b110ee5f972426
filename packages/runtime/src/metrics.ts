import { Logger } from '@nestjs/common';
import { Gauge } from 'prom-client';
import type { MetricsRegistry } from './health';

export interface Sample<L extends string> {
  readonly labels: Partial<Record<L, string>>;
  readonly value: number;
}

export interface SampledGaugeOptions<L extends string> {
  readonly name: string;
  readonly help: string;
  readonly labelNames?: readonly L[];
  /** Reads the current values (a query of the tables the gauge describes), at every scrape. */
  readonly read: () => Promise<ReadonlyArray<Sample<L>>>;
}

/**
 * A gauge read at scrape time, for what only the database knows (queue depth, outbox age).
 * Every replica answers the same value, so dashboards take `max`, not `sum`, of it. A read
 * that fails leaves the last values and is logged once per failure streak: a scrape must
 * still answer the process's own metrics while Postgres is away.
 */
export function sampledGauge<L extends string>(metrics: MetricsRegistry, options: SampledGaugeOptions<L>): Gauge<L> {
  const logger = new Logger('metrics');
  let failing = false;
  const gauge: Gauge<L> = new Gauge<L>({
    name: options.name,
    help: options.help,
    labelNames: options.labelNames ?? [],
    registers: [metrics],
    collect: async () => {
      try {
        const samples = await options.read();
        gauge.reset();
        for (const { labels, value } of samples) gauge.set(labels, value);
        failing = false;
      } catch (err) {
        if (!failing) logger.warn(`${options.name}: could not be read (${(err as Error).message}); showing the last values`);
        failing = true;
      }
    },
  });
  return gauge;
}
