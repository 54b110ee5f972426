import type { Pool } from 'pg';
import { DELIVERY_EVENTS, MONITOR_EVENTS, deliveryStreamId, monitorStreamId } from '@tocsin/contracts';
import { WebhookReceiver, type ReceivedWebhook } from '@tocsin/testing';

/** A monitor a scenario counts: its tenant, and how many incidents its results imply. */
export interface CountedMonitor {
  readonly tenantId: string;
  readonly id: string;
  readonly slug: string;
  readonly expectedIncidents: number;
  readonly sent: number;
  readonly retries: number;
}

/** A tenant's webhook endpoint, with the receiver behind it and the secret it signs with. */
export interface CountedEndpoint {
  readonly id: string;
  readonly tenantId: string;
  readonly secret: string;
  readonly receiver: ChaosReceiver;
}

/**
 * A real receiver that remembers which attempts it answered 2xx (`<webhook-id>#<attempt>`),
 * and can be taken down: while down it answers every request 503.
 */
export class ChaosReceiver {
  readonly answered2xx = new Map<string, number>();
  down = false;

  private constructor(readonly receiver: WebhookReceiver) {
    receiver.respondWith((request) => {
      if (this.down) return { status: 503, body: 'down' };
      const key = `${String(request.headers['webhook-id'])}#${String(request.headers['x-tocsin-attempt'])}`;
      this.answered2xx.set(key, (this.answered2xx.get(key) ?? 0) + 1);
      return { status: 204 };
    });
  }

  static async start(path: string): Promise<ChaosReceiver> {
    return new ChaosReceiver(await WebhookReceiver.start(path));
  }

  get url(): string {
    return this.receiver.url;
  }

  get received(): readonly ReceivedWebhook[] {
    return this.receiver.received;
  }

  close(): Promise<void> {
    return this.receiver.close();
  }
}

/** What one scenario sent and what arrived, counted from the event store and the receivers. */
export interface Ledger {
  readonly scenario: string;
  readonly resultsSent: number;
  readonly retried: number;
  readonly incidentsExpected: number;
  readonly incidentsFound: number;
  readonly webhooksExpected: number;
  readonly webhooksReceived: number;
  readonly webhooksDuplicated: number;
  readonly lost: number;
  readonly wronglyDelivered: number;
  readonly recoveryMs: number;
  /** One sentence per loss, double or wrong delivery; none in a good run. */
  readonly problems: string[];
}

interface DeliveryRow {
  id: string;
  endpoint_id: string;
  tenant_id: string;
  event_type: string;
  dedup_key: string;
  status: string;
  slug: string;
}

/**
 * Counts a scenario once the pipeline is quiet: incidents in the event store against those
 * the results imply, deliveries against incidents × events × the tenant's endpoints, and
 * every delivery against what its receiver got (the same webhook-id on every attempt, a
 * valid signature, no attempt recorded succeeded that the receiver did not answer 2xx).
 */
export async function countScenario(
  db: Pool,
  scenario: string,
  monitors: readonly CountedMonitor[],
  endpoints: readonly CountedEndpoint[],
  recoveryMs: number,
): Promise<Ledger> {
  const problems: string[] = [];
  let lost = 0;
  let wrong = 0;
  const streams = monitors.map((m) => monitorStreamId(m.tenantId, m.id));
  const opened = new Map(
    (
      await db.query<{ stream_id: string; opened: number; resolved: number }>(
        `SELECT stream_id, count(*) FILTER (WHERE type = $2)::int AS opened, count(*) FILTER (WHERE type = $3)::int AS resolved
         FROM events WHERE stream_id = ANY($1) GROUP BY stream_id`,
        [streams, MONITOR_EVENTS.IncidentOpened.type, MONITOR_EVENTS.IncidentResolved.type],
      )
    ).rows.map((r) => [r.stream_id, r]),
  );
  let found = 0;
  for (const m of monitors) {
    const row = opened.get(monitorStreamId(m.tenantId, m.id));
    const n = row?.opened ?? 0;
    found += n;
    if (n < m.expectedIncidents) lost += m.expectedIncidents - n;
    if (n !== m.expectedIncidents) problems.push(`${m.slug}: ${n} incidents opened, its results imply ${m.expectedIncidents}`);
    if ((row?.resolved ?? 0) !== n) problems.push(`${m.slug}: ${n} incidents opened but ${row?.resolved ?? 0} resolved`);
  }

  const bySlug = new Map(monitors.map((m) => [`${m.tenantId}:${m.slug}`, m]));
  const deliveries = (
    await db.query<DeliveryRow>(
      `SELECT id, endpoint_id, tenant_id, event_type, dedup_key, status, body->>'server_slug' AS slug FROM deliveries
       WHERE tenant_id::text || ':' || (body->>'server_slug') = ANY($1)`,
      [[...bySlug.keys()]],
    )
  ).rows;
  const endpointsOf = (tenantId: string) => endpoints.filter((e) => e.tenantId === tenantId);
  const expectedWebhooks = monitors.reduce((sum, m) => sum + m.expectedIncidents * 2 * endpointsOf(m.tenantId).length, 0);
  if (deliveries.length < expectedWebhooks) lost += expectedWebhooks - deliveries.length;
  if (deliveries.length !== expectedWebhooks) problems.push(`${deliveries.length} deliveries, expected ${expectedWebhooks}`);
  const pages = new Map<string, number>();
  for (const d of deliveries) pages.set(`${d.endpoint_id} ${d.dedup_key} ${d.event_type}`, (pages.get(`${d.endpoint_id} ${d.dedup_key} ${d.event_type}`) ?? 0) + 1);
  for (const [page, n] of pages) if (n > 1) problems.push(`${n} deliveries for one page (${page})`);
  const unfinished = deliveries.filter((d) => d.status !== 'delivered');
  if (unfinished.length > 0) problems.push(`${unfinished.length} deliveries not delivered: ${[...new Set(unfinished.map((d) => d.status))].join(', ')}`);

  // Every webhook the receivers got for this scenario's monitors.
  const byId = new Map(deliveries.map((d) => [d.id, d]));
  const endpointById = new Map(endpoints.map((e) => [e.id, e]));
  const arrived = new Set<string>();
  for (const endpoint of endpoints) {
    for (const w of endpoint.receiver.received) {
      if (!bySlug.has(`${String(w.body.tenant_id)}:${String(w.body.server_slug)}`)) continue;
      const id = String(w.headers['webhook-id']);
      const delivery = byId.get(id);
      if (!delivery) {
        wrong++;
        problems.push(`a webhook with an unknown id ${id} at ${endpoint.receiver.url}`);
        continue;
      }
      const target = endpointById.get(delivery.endpoint_id);
      if (target?.receiver !== endpoint.receiver || String(w.body.tenant_id) !== delivery.tenant_id) {
        wrong++;
        problems.push(`delivery ${id} arrived at another endpoint's receiver`);
      } else if (!WebhookReceiver.verify(target.secret, w)) {
        wrong++;
        problems.push(`delivery ${id} arrived with a signature its endpoint's secret does not verify`);
      }
      if (w.body.dedup_key !== delivery.dedup_key || w.body.event !== delivery.event_type) {
        wrong++;
        problems.push(`delivery ${id} carried another page's body`);
      }
      arrived.add(id);
    }
  }
  const missing = deliveries.filter((d) => !arrived.has(d.id));
  lost += missing.length;
  if (missing.length > 0) problems.push(`${missing.length} deliveries never reached their receiver`);

  // An attempt recorded succeeded must be one its receiver answered 2xx.
  let duplicated = 0;
  const answered = new Map<string, number>();
  for (const e of endpoints) for (const [key, n] of e.receiver.answered2xx) answered.set(key, (answered.get(key) ?? 0) + n);
  const perDelivery = new Map<string, number>();
  for (const [key, n] of answered) perDelivery.set(key.split('#')[0]!, (perDelivery.get(key.split('#')[0]!) ?? 0) + n);
  for (const d of deliveries) if ((perDelivery.get(d.id) ?? 0) > 1) duplicated++;
  const succeeded = (
    await db.query<{ stream_id: string; attempt: number }>(
      `SELECT stream_id, (data->>'attempt')::int AS attempt FROM events WHERE type = $2 AND stream_id = ANY($1)`,
      [deliveries.map((d) => deliveryStreamId(d.id)), DELIVERY_EVENTS.AttemptSucceeded.type],
    )
  ).rows;
  for (const s of succeeded) {
    const id = s.stream_id.slice(deliveryStreamId('').length);
    if (!answered.has(`${id}#${s.attempt}`)) {
      wrong++;
      problems.push(`delivery ${id} attempt ${s.attempt} recorded succeeded without a 2xx`);
    }
  }

  // One incident, one dedup key: a page under a second key would page the on-call twice.
  for (const m of monitors) {
    const keys = new Set(deliveries.filter((d) => d.tenant_id === m.tenantId && d.slug === m.slug && d.event_type === 'downtime_started').map((d) => d.dedup_key));
    const n = opened.get(monitorStreamId(m.tenantId, m.id))?.opened ?? 0;
    if (keys.size !== n) problems.push(`${m.slug}: ${n} incidents paged under ${keys.size} dedup keys`);
  }

  return {
    scenario,
    resultsSent: monitors.reduce((s, m) => s + m.sent, 0),
    retried: monitors.reduce((s, m) => s + m.retries, 0),
    incidentsExpected: monitors.reduce((s, m) => s + m.expectedIncidents, 0),
    incidentsFound: found,
    webhooksExpected: expectedWebhooks,
    webhooksReceived: arrived.size,
    webhooksDuplicated: duplicated,
    lost,
    wronglyDelivered: wrong,
    recoveryMs,
    problems,
  };
}

/** The ledger as the lines the run prints. */
export function formatLedger(l: Ledger): string {
  return [
    `scenario: ${l.scenario}`,
    `  results sent: ${l.resultsSent} (${l.retried} sent again after an error)`,
    `  incidents expected/found: ${l.incidentsExpected}/${l.incidentsFound}`,
    `  webhooks expected/received/duplicated: ${l.webhooksExpected}/${l.webhooksReceived}/${l.webhooksDuplicated}`,
    `  lost: ${l.lost}, wrongly delivered: ${l.wronglyDelivered}`,
    `  recovery: ${(l.recoveryMs / 1000).toFixed(1)} s`,
    ...l.problems.slice(0, 20).map((p) => `  problem: ${p}`),
  ].join('\n');
}
