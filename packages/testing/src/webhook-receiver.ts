import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { waitFor, type WaitOptions } from './wait';

export interface ReceivedWebhook {
  readonly headers: IncomingHttpHeaders;
  readonly rawBody: string;
  readonly body: Record<string, unknown>;
  readonly receivedAt: Date;
}

/** An answer, or `hang`: never answer (the connection stays open until the sender gives up). */
export type PlannedResponse = { status: number; body?: string | Buffer; headers?: Record<string, string>; delayMs?: number } | 'hang';
export type ResponsePlan = (request: ReceivedWebhook, index: number) => PlannedResponse;

/** A real HTTP receiver that records every webhook and answers as the test tells it to. */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  private plan: ResponsePlan = () => ({ status: 200, body: 'ok' });

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(path = '/hooks'): Promise<WebhookReceiver> {
    const holder: { receiver?: WebhookReceiver } = {};
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const rawBody = Buffer.concat(chunks).toString('utf8');
        let body: Record<string, unknown> = {};
        try {
          body = JSON.parse(rawBody) as Record<string, unknown>;
        } catch {
          body = { unparsable: rawBody };
        }
        const record = { headers: req.headers, rawBody, body, receivedAt: new Date() };
        const receiver = holder.receiver!;
        const index = receiver.received.push(record) - 1;
        const answer = receiver.plan(record, index);
        if (answer === 'hang') return;
        const respond = () => res.writeHead(answer.status, { 'content-type': 'text/plain', ...answer.headers }).end(answer.body ?? '');
        if (answer.delayMs) setTimeout(respond, answer.delayMs);
        else respond();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    holder.receiver = new WebhookReceiver(server, `http://127.0.0.1:${port}${path}`);
    return holder.receiver;
  }

  respondWith(plan: ResponsePlan): void {
    this.plan = plan;
  }

  ofEvent(event: string): ReceivedWebhook[] {
    return this.received.filter((r) => r.body.event === event);
  }

  waitForEvent(event: string, count = 1, options: WaitOptions = {}): Promise<ReceivedWebhook[]> {
    return waitFor(() => this.ofEvent(event).length >= count && this.ofEvent(event), {
      timeoutMs: 60_000,
      description: `${count} "${event}" webhook(s) at ${this.url}`,
      ...options,
    });
  }

  /** Verifies with the public standardwebhooks package, as a real receiver would. */
  static verify(secret: string, webhook: ReceivedWebhook): boolean {
    try {
      new Webhook(secret).verify(webhook.rawBody, {
        'webhook-id': String(webhook.headers['webhook-id']),
        'webhook-timestamp': String(webhook.headers['webhook-timestamp']),
        'webhook-signature': String(webhook.headers['webhook-signature']),
      });
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
