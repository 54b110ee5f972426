import type { WebhookBody } from '@tocsin/contracts';
import { clip, headline, spokenDuration } from './alert-words';

export interface AlertEmail {
  readonly subject: string;
  readonly text: string;
  readonly html: string;
  /** Message-ID, In-Reply-To and References: an incident's emails thread in any mail reader. */
  readonly messageId: string;
  readonly thread: string;
  readonly headers: Record<string, string>;
}

const SUBJECT_MAX = 200;

/** Everything from outside (slugs, errors, URLs) goes into the HTML escaped. */
const escapeHtml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

/** A header value may not carry a line break: that would start a header of the sender's choosing. */
const oneLine = (text: string) => text.replace(/[\r\n]+/g, ' ');

const COLOUR: Record<WebhookBody['severity'], string> = { P1: '#c62828', P2: '#ef6c00', P3: '#f9a825' };

/**
 * A delivery's body as an email: the subject says the severity and the server, the plain
 * text and the HTML carry the same facts (server, event, layer, severity, start, duration,
 * last error, dedup key) and a link to the console. Each delivery is its own message
 * (Message-ID from the delivery id, so a retry the server already took is recognisable),
 * and all of an incident's messages refer to one thread id built from its dedup key.
 */
export function alertEmail(body: WebhookBody, deliveryId: string): AlertEmail {
  const resolved = body.event === 'downtime_resolved';
  // The tag carries the severity, so the headline's own is left out.
  const subject = clip(oneLine(`[Tocsin ${body.severity}] ${headline(body).replace(/^P[1-3] /, '')}${body.failure_layer && !resolved ? ` (${body.failure_layer})` : ''}`), SUBJECT_MAX);
  const facts: Array<[string, string]> = [
    ['Server', `${body.server_slug} (${body.server_url})`],
    ['Event', body.event],
    ['Severity', body.severity],
    ...(body.failure_layer ? ([['Layer', body.failure_layer]] as Array<[string, string]>) : []),
    ['Started', body.started_at],
    ...(body.resolved_at ? ([['Resolved', body.resolved_at]] as Array<[string, string]>) : []),
    ...(body.duration_seconds !== undefined ? ([['Duration', spokenDuration(body.duration_seconds)]] as Array<[string, string]>) : []),
    ...(body.last_error && !resolved ? ([['Last error', body.last_error]] as Array<[string, string]>) : []),
    ['Dedup key', body.dedup_key],
  ];
  const text = [
    headline(body),
    '',
    ...facts.map(([k, v]) => `${k}: ${v}`),
    '',
    `Open in Tocsin: ${body.dashboard_url}`,
    '',
  ].join('\n');
  const rows = facts
    .map(([k, v]) => `<tr><th align="left" style="padding:2px 12px 2px 0">${k}</th><td style="padding:2px 0">${k === 'Last error' ? `<code>${escapeHtml(v)}</code>` : escapeHtml(v)}</td></tr>`)
    .join('');
  const colour = resolved ? '#2e7d32' : COLOUR[body.severity];
  const html =
    `<!doctype html><html><body style="font-family:sans-serif">` +
    `<h2 style="color:${colour}">${escapeHtml(headline(body))}</h2>` +
    `<table>${rows}</table>` +
    `<p><a href="${escapeHtml(body.dashboard_url)}">Open in Tocsin</a></p>` +
    `</body></html>`;
  return {
    subject,
    text,
    html,
    messageId: `<${deliveryId}@tocsin>`,
    thread: `<${body.dedup_key}@tocsin>`,
    headers: {
      'X-Tocsin-Event': body.event,
      'X-Tocsin-Dedup-Key': oneLine(body.dedup_key),
      'X-Tocsin-Severity': body.severity,
    },
  };
}
