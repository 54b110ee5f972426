import type { WebhookBody } from '@tocsin/contracts';

/** What happened, in a few words a person reads first: a message's header, an email's subject. */
export function headline(body: WebhookBody): string {
  switch (body.event) {
    case 'downtime_started':
      return `${body.severity} ${body.server_slug} is down`;
    case 'downtime_resolved':
      return `${body.server_slug} recovered`;
    case 'slo_breach_warning':
      return `${body.severity} ${body.server_slug}: SLO error budget burning`;
    case 'schema_drift_detected':
      return `${body.server_slug}: its tools changed`;
    case 'webhook.test':
      return 'Test message from Tocsin';
  }
}

/** A duration as a person says it: `42 s`, `3 min 5 s`, `2 h 10 min`. */
export function spokenDuration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = Math.round(seconds % 60);
  return h > 0 ? `${h} h ${m} min` : m > 0 ? `${m} min ${s} s` : `${s} s`;
}

export const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);
