import { Client } from 'pg';
import { SlackStandIn, WebhookReceiver, waitFor } from '@tocsin/testing';
import { ApiClient, startStack, type Stack } from '../src';

/**
 * A `slack` endpoint posts a readable Block Kit message per alert to an incoming webhook,
 * through the same deliveries and retries as a webhook; the webhook URL is the secret, so
 * it is sealed and only its origin is shown. Driven against a local stand-in that answers
 * as Slack documents (200 ok, 400 invalid_blocks, 404 no_service, 429).
 */
describe('Slack endpoints', () => {
  let stack: Stack;
  let slack: SlackStandIn;
  let receiver: WebhookReceiver;
  let api: ApiClient;
  let endpointId: string;

  const push = (ok: boolean) =>
    api.post('/v1/probe-results', { results: [{ monitor_id: 'checkout', ok, ...(ok ? {} : { failure_layer: 'initialize', error: 'initialize timed out <@channel>' }) }] });

  beforeAll(async () => {
    [stack, slack, receiver] = await Promise.all([startStack(['api', 'severity-router', 'dispatcher']), SlackStandIn.start(), WebhookReceiver.start()]);
    ({ client: api } = await ApiClient.tenant(stack.apiUrl, 'slack'));
    const created = await api.post<Record<string, unknown> & { id: string }>('/v1/endpoints', {
      name: '#incidents',
      type: 'slack',
      config: { url: slack.url },
      retry_schedule_seconds: [0, 1, 1, 1],
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ type: 'slack', url: `${new URL(slack.url).origin}/…` });
    expect(JSON.stringify(created.body)).not.toContain(new URL(slack.url).pathname);
    endpointId = created.body.id;
    expect((await api.post('/v1/endpoints', { name: 'hook', url: receiver.url })).status).toBe(201);
    expect((await api.post('/v1/monitors', { slug: 'checkout', name: 'Checkout', url: 'https://checkout.example.com/mcp' })).status).toBe(201);
  });

  afterAll(async () => {
    await stack?.close();
    await Promise.all([slack?.close(), receiver?.close()]);
  });

  it('refuses a slack endpoint without its webhook URL, or with a routing key, naming the field', async () => {
    for (const [body, field] of [
      [{ name: 'x', type: 'slack' }, 'config.url'],
      [{ name: 'x', type: 'slack', config: { url: slack.url, routing_key: 'a'.repeat(32) } }, 'config.routing_key'],
      [{ name: 'x', type: 'slack', config: { url: 'not a url' } }, 'config.url'],
    ] as const) {
      const res = await api.post('/v1/endpoints', body);
      expect([res.status, JSON.stringify(res.body)]).toEqual([400, expect.stringContaining(field.split('.').pop()!)]);
    }
    expect((await api.post(`/v1/endpoints/${endpointId}/rotate-secret`, {})).status).toBe(409);
  });

  it('keeps the webhook URL sealed at rest', async () => {
    const db = new Client({ connectionString: stack.database.url });
    await db.connect();
    try {
      const { rows } = await db.query<{ row: string }>('SELECT row_to_json(e)::text AS row FROM endpoints e WHERE id = $1', [endpointId]);
      expect(rows[0]!.row).not.toContain(new URL(slack.url).pathname);
    } finally {
      await db.end();
    }
  });

  it('posts the outage and its recovery as readable messages, retrying a 429', async () => {
    slack.throttle = 1;
    for (let i = 0; i < 3; i++) expect((await push(false)).status).toBe(202);
    const [down] = await waitFor(() => slack.messages.length > 0 && slack.messages, { description: 'the outage message in Slack' });
    const [webhook] = await receiver.waitForEvent('downtime_started');
    expect(down!.text).toBe('P2 checkout is down: initialize timed out <@channel>');
    const blocks = down!.blocks!;
    expect(blocks[0]).toMatchObject({ type: 'header', text: { text: ':large_orange_circle: P2 checkout is down' } });
    const fields = (blocks.find((b) => Array.isArray(b.fields))!.fields as Array<{ text: string }>).map((f) => f.text);
    expect(fields).toEqual(expect.arrayContaining(['*Server*\ncheckout', '*Severity*\nP2', '*Layer*\ninitialize']));
    // Text from outside cannot mention a channel or become a link.
    expect(JSON.stringify(blocks[2])).toContain('initialize timed out &lt;@channel&gt;');
    expect(blocks.find((b) => b.type === 'actions')).toMatchObject({ elements: [{ url: webhook!.body.dashboard_url }] });
    expect(JSON.stringify(blocks.at(-1))).toContain(String(webhook!.body.dedup_key));

    expect((await push(true)).status).toBe(202);
    const up = await waitFor(() => slack.messages[1], { description: 'the recovery message in Slack' });
    expect(up.text).toBe('checkout recovered');
    expect(JSON.stringify(up.blocks)).toContain('*Duration*');
    expect(slack.refused).toEqual([]);
    const deliveries = await api.get<{ data: Array<{ event: string; status: string; attempt_count: number }> }>(`/v1/endpoints/${endpointId}/deliveries`);
    expect(deliveries.body.data.map((d) => [d.event, d.status])).toEqual([
      ['downtime_started', 'delivered'],
      ['downtime_resolved', 'delivered'],
    ]);
    expect(deliveries.body.data[0]!.attempt_count).toBe(2);
  });
});
