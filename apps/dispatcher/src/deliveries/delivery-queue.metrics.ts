import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { MetricsRegistry, sampledGauge } from '@tocsin/runtime';

const QUEUE_STATES = ['due', 'leased', 'retrying'] as const;
const BREAKER_STATES = ['closed', 'open', 'half_open'] as const;

/**
 * What the queue and the endpoints' breakers look like, read from the tables at scrape
 * time: every dispatcher replica shares them, so each answers the same figures.
 */
@Injectable()
export class DeliveryQueueMetrics {
  constructor(dataSource: DataSource, metrics: MetricsRegistry) {
    sampledGauge(metrics, {
      name: 'tocsin_delivery_queue_depth',
      help: 'Deliveries waiting: due (pending or retrying, time to send), leased (an attempt in flight), retrying (waiting for a retry, due or not)',
      labelNames: ['state'],
      read: async () => {
        // The three counts come from the open-deliveries partial index, not the whole table.
        const [row]: Array<Record<(typeof QUEUE_STATES)[number], number>> = await dataSource.query(
          `SELECT count(*) FILTER (WHERE status IN ('pending', 'retrying') AND next_attempt_at <= now())::int AS due,
                  count(*) FILTER (WHERE status = 'in_flight')::int AS leased,
                  count(*) FILTER (WHERE status = 'retrying')::int AS retrying
           FROM deliveries WHERE status IN ('pending', 'retrying', 'in_flight')`,
        );
        return QUEUE_STATES.map((state) => ({ labels: { state }, value: row?.[state] ?? 0 }));
      },
    });
    sampledGauge(metrics, {
      name: 'tocsin_endpoint_breakers',
      help: 'Endpoints by circuit-breaker state (an endpoint never attempted counts as closed)',
      labelNames: ['state'],
      read: async () => {
        const rows: Array<{ state: string; endpoints: number }> = await dataSource.query(
          `SELECT coalesce(s.breaker_state, 'closed') AS state, count(*)::int AS endpoints
           FROM endpoints e LEFT JOIN endpoint_stats s ON s.endpoint_id = e.id GROUP BY 1`,
        );
        return BREAKER_STATES.map((state) => ({ labels: { state }, value: rows.find((r) => r.state === state)?.endpoints ?? 0 }));
      },
    });
  }
}
