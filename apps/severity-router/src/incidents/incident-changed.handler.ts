import { Logger } from '@nestjs/common';
import { EventsHandler, type IEventHandler } from '@nestjs/cqrs';
import { Counter } from 'prom-client';
import { MetricsRegistry } from '@tocsin/runtime';
import { IncidentChanged } from './incident-changed.event';

/** Logs and counts incident transitions once they are committed. */
@EventsHandler(IncidentChanged)
export class IncidentChangedHandler implements IEventHandler<IncidentChanged> {
  private readonly logger = new Logger('Incidents');
  private readonly transitions: Counter<'event' | 'severity'>;

  constructor(metrics: MetricsRegistry) {
    this.transitions = new Counter({
      name: 'tocsin_incident_transitions_total',
      help: 'Incidents opened and resolved',
      labelNames: ['event', 'severity'],
      registers: [metrics],
    });
  }

  handle({ alert }: IncidentChanged): void {
    this.transitions.inc({ event: alert.event, severity: alert.severity });
    this.logger.log(
      `${alert.event} ${alert.dedup_key} monitor=${alert.monitor_id} tenant=${alert.tenant_id} ` +
        `severity=${alert.severity} layer=${alert.failure_layer ?? '-'}` +
        (alert.duration_seconds !== undefined ? ` after ${alert.duration_seconds}s` : ''),
    );
  }
}
