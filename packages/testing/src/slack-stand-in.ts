import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SlackMessage {
  readonly text?: string;
  readonly blocks?: ReadonlyArray<Record<string, unknown> & { type: string }>;
}

const BLOCK_TYPES = new Set(['header', 'section', 'actions', 'context', 'divider']);

type Text = { type?: string; text?: string };
const textOf = (t: unknown): Text => (typeof t === 'object' && t !== null ? (t as Text) : {});

/** Why Slack would refuse a message (`no_text`, `invalid_blocks`), or null when it takes it. */
export function slackMessageError(message: unknown): string | null {
  if (typeof message !== 'object' || message === null) return 'invalid_payload';
  const m = message as { text?: unknown; blocks?: unknown };
  if (typeof m.text !== 'string' && !Array.isArray(m.blocks)) return 'no_text';
  if (m.blocks === undefined) return null;
  if (!Array.isArray(m.blocks) || m.blocks.length > 50) return 'invalid_blocks';
  for (const block of m.blocks as Array<Record<string, unknown>>) {
    if (!BLOCK_TYPES.has(String(block.type))) return 'invalid_blocks';
    if (block.type === 'header') {
      const t = textOf(block.text);
      if (t.type !== 'plain_text' || !t.text || t.text.length > 150) return 'invalid_blocks';
    }
    if (block.type === 'section') {
      const fields = block.fields as Text[] | undefined;
      const t = block.text === undefined ? undefined : textOf(block.text);
      if (!t && !fields) return 'invalid_blocks';
      if (t && (!t.text || t.text.length > 3000)) return 'invalid_blocks';
      if (fields && (fields.length > 10 || fields.some((f) => !f.text || f.text.length > 2000))) return 'invalid_blocks';
    }
    if (block.type === 'actions') {
      const elements = block.elements as Array<{ text?: Text; url?: string }> | undefined;
      if (!elements || elements.length === 0 || elements.length > 25) return 'invalid_blocks';
      if (elements.some((e) => !e.text?.text || e.text.text.length > 75 || (e.url !== undefined && e.url.length > 3000))) return 'invalid_blocks';
    }
  }
  return null;
}

/**
 * A local stand-in for a Slack incoming webhook, keeping its documented answers: 200 `ok`
 * for a message it takes, 400 `invalid_payload` / `no_text` / `invalid_blocks` for one it
 * refuses, 404 `no_service` for another path (a revoked webhook), 429 with Retry-After when
 * told to throttle. `url` is the webhook's secret address.
 */
export class SlackStandIn {
  readonly messages: SlackMessage[] = [];
  readonly refused: Array<{ body: string; error: string }> = [];
  throttle = 0;

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(path = '/services/T0000/B0000/XXXXXXXXXXXXXXXXXXXXXXXX'): Promise<SlackStandIn> {
    const holder: { standIn?: SlackStandIn } = {};
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const standIn = holder.standIn!;
        const answer = (status: number, text: string, headers: Record<string, string> = {}) => res.writeHead(status, { 'content-type': 'text/plain', ...headers }).end(text);
        if (req.method !== 'POST' || req.url !== path) return answer(404, 'no_service');
        if (standIn.throttle > 0) {
          standIn.throttle--;
          return answer(429, 'rate_limited', { 'retry-after': '1' });
        }
        const raw = Buffer.concat(chunks).toString('utf8');
        let message: unknown;
        try {
          message = JSON.parse(raw);
        } catch {
          message = undefined;
        }
        const error = slackMessageError(message);
        if (error) {
          standIn.refused.push({ body: raw, error });
          return answer(400, error);
        }
        standIn.messages.push(message as SlackMessage);
        return answer(200, 'ok');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    holder.standIn = new SlackStandIn(server, `http://127.0.0.1:${port}${path}`);
    return holder.standIn;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
