import { randomUUID } from 'node:crypto';
import type { WebhookBody } from '@tocsin/contracts';
import { deliveryId } from './delivery-id';
import type { NewDelivery } from './enqueue';

/**
 * A `webhook.test` delivery for one endpoint: a body of the DESIGN §5 shape, so a receiver
 * can exercise its parsing and signature checks, sent through the same queue, signing and
 * retries as a real alert.
 */
export function testDelivery(
  endpoint: { readonly id: string; readonly tenant_id: string; readonly name: string; readonly url: string },
  dashboardBaseUrl: string,
  now = new Date(),
): NewDelivery {
  const eventId = randomUUID();
  const dedupKey = `test-${endpoint.id}-${eventId}`;
  const body: Omit<WebhookBody, 'delivered_at'> = {
    event: 'webhook.test',
    event_id: eventId,
    dedup_key: dedupKey,
    tenant_id: endpoint.tenant_id,
    server_slug: 'tocsin-test',
    server_url: endpoint.url,
    failure_layer: null,
    severity: 'P3',
    started_at: now.toISOString(),
    probe_count: 0,
    last_error: `test webhook for endpoint "${endpoint.name}"`,
    dashboard_url: `${dashboardBaseUrl.replace(/\/$/, '')}/console/endpoints/${endpoint.id}`,
    sequence: 1,
  };
  return {
    id: deliveryId(eventId, endpoint.id),
    tenantId: endpoint.tenant_id,
    endpointId: endpoint.id,
    alertEventId: eventId,
    event: 'webhook.test',
    dedupKey,
    sequence: 1,
    body,
  };
}
