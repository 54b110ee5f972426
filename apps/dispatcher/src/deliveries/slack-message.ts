import type { WebhookBody } from '@tocsin/contracts';
import { clip, headline, spokenDuration } from './alert-words';

/** Slack's limits: a section's text up to 3 000 characters, a header's up to 150. */
const SECTION_MAX = 3000;
const HEADER_MAX = 150;

const MARK: Record<WebhookBody['severity'], string> = { P1: ':red_circle:', P2: ':large_orange_circle:', P3: ':large_yellow_circle:' };

/** Slack's mrkdwn treats &, < and > as markup; text from outside must not become a link or a mention. */
const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * A delivery's body as a Slack incoming-webhook message (Block Kit): a header saying what
 * happened, the server, layer, severity, start and (resolved) duration as fields, the last
 * error, and a button to the incident in the console; `text` is the notification line.
 * Incoming webhooks cannot answer a message's id, so an incident's messages cannot be
 * threaded: the dedup key in the context line ties them together.
 */
export function slackMessage(body: WebhookBody): Record<string, unknown> {
  const resolved = body.event === 'downtime_resolved';
  const title = clip(`${resolved ? ':large_green_circle:' : MARK[body.severity]} ${headline(body)}`, HEADER_MAX);
  const fields = [
    `*Server*\n${escape(body.server_slug)}`,
    `*Severity*\n${body.severity}`,
    ...(body.failure_layer ? [`*Layer*\n${body.failure_layer}`] : []),
    `*Started*\n<!date^${Math.floor(Date.parse(body.started_at) / 1000)}^{date_short_pretty} {time_secs}|${body.started_at}>`,
    ...(body.duration_seconds !== undefined ? [`*Duration*\n${spokenDuration(body.duration_seconds)}`] : []),
  ];
  return {
    text: clip(`${headline(body)}${body.last_error && !resolved ? `: ${body.last_error}` : ''}`, SECTION_MAX),
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: title, emoji: true } },
      { type: 'section', fields: fields.map((text) => ({ type: 'mrkdwn', text })) },
      ...(body.last_error && !resolved ? [{ type: 'section', text: { type: 'mrkdwn', text: clip(`*Last error*\n\`\`\`${escape(body.last_error)}\`\`\``, SECTION_MAX) } }] : []),
      {
        type: 'actions',
        elements: [{ type: 'button', text: { type: 'plain_text', text: 'Open in Tocsin' }, url: body.dashboard_url }],
      },
      { type: 'context', elements: [{ type: 'mrkdwn', text: `${escape(body.server_url)} · ${body.dedup_key}` }] },
    ],
  };
}
