import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** An event the stand-in accepted, as PagerDuty would have taken it. */
export interface PagerDutyEvent {
  readonly routing_key: string;
  readonly event_action: 'trigger' | 'acknowledge' | 'resolve';
  readonly dedup_key: string;
  readonly payload?: {
    readonly summary: string;
    readonly source: string;
    readonly severity: 'critical' | 'error' | 'warning' | 'info';
    readonly timestamp?: string;
    readonly component?: string;
    readonly class?: string;
    readonly custom_details?: Record<string, unknown>;
  };
  readonly links?: ReadonlyArray<{ href: string; text?: string }>;
  readonly client?: string;
  readonly client_url?: string;
}

const ACTIONS = new Set(['trigger', 'acknowledge', 'resolve']);
const SEVERITIES = new Set(['critical', 'error', 'warning', 'info']);

/** What PagerDuty's Events API v2 documents for an event it refuses; empty when it is valid. */
export function pagerDutyEventErrors(event: unknown): string[] {
  if (typeof event !== 'object' || event === null) return ['Event object is invalid'];
  const e = event as Record<string, unknown>;
  const errors: string[] = [];
  if (typeof e.routing_key !== 'string' || e.routing_key.length !== 32) errors.push("'routing_key' is invalid");
  if (typeof e.event_action !== 'string' || !ACTIONS.has(e.event_action)) errors.push("'event_action' is invalid");
  if (e.dedup_key !== undefined && (typeof e.dedup_key !== 'string' || e.dedup_key.length > 255)) errors.push("'dedup_key' must be at most 255 characters");
  if (e.event_action !== 'trigger' && typeof e.dedup_key !== 'string') errors.push("'dedup_key' is required to acknowledge or resolve");
  if (e.event_action === 'trigger') {
    const p = e.payload as Record<string, unknown> | undefined;
    if (typeof p !== 'object' || p === null) errors.push("'payload' is missing or invalid");
    else {
      if (typeof p.summary !== 'string' || p.summary.length === 0 || p.summary.length > 1024) errors.push("'payload.summary' is missing or invalid");
      if (typeof p.source !== 'string' || p.source.length === 0) errors.push("'payload.source' is missing or invalid");
      if (typeof p.severity !== 'string' || !SEVERITIES.has(p.severity)) errors.push("'payload.severity' is missing or invalid");
    }
  }
  return errors;
}

/**
 * A local stand-in for PagerDuty's Events API v2 (`POST /v2/enqueue`) that keeps its
 * documented contract: 202 `{status: "success", message, dedup_key}` for a valid event
 * (a trigger without a dedup key gets one made), 400 `{status: "invalid event", message,
 * errors}` for an invalid one, 429 when told to throttle.
 */
export class PagerDutyStandIn {
  readonly accepted: PagerDutyEvent[] = [];
  readonly refused: Array<{ body: string; errors: string[] }> = [];
  /** Requests answered 429 before the next one is taken. */
  throttle = 0;
  throttled = 0;

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<PagerDutyStandIn> {
    const holder: { standIn?: PagerDutyStandIn } = {};
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const standIn = holder.standIn!;
        const answer = (status: number, body: object) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
        if (req.method !== 'POST' || req.url !== '/v2/enqueue') return answer(404, { status: 'not found' });
        if (standIn.throttle > 0) {
          standIn.throttle--;
          standIn.throttled++;
          return answer(429, { status: 'throttle event', message: 'Requests for this service are arriving too quickly. Please retry later.' });
        }
        const raw = Buffer.concat(chunks).toString('utf8');
        let event: unknown;
        try {
          event = JSON.parse(raw);
        } catch {
          standIn.refused.push({ body: raw, errors: ['Event object is invalid'] });
          return answer(400, { status: 'invalid event', message: 'Event object is invalid', errors: ['Event object is invalid'] });
        }
        const errors = pagerDutyEventErrors(event);
        if (errors.length > 0) {
          standIn.refused.push({ body: raw, errors });
          return answer(400, { status: 'invalid event', message: 'Event object is invalid', errors });
        }
        const accepted = event as PagerDutyEvent;
        const dedupKey = accepted.dedup_key ?? randomUUID();
        standIn.accepted.push({ ...accepted, dedup_key: dedupKey });
        return answer(202, { status: 'success', message: 'Event processed', dedup_key: dedupKey });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    holder.standIn = new PagerDutyStandIn(server, `http://127.0.0.1:${port}/v2/enqueue`);
    return holder.standIn;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
