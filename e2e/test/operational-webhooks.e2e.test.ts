import { WebhookReceiver, waitFor, type ReceivedWebhook } from '@tocsin/testing';
import { ApiClient, startStack, type Stack } from '../src';

const NOTICES = ['endpoint.degraded', 'endpoint.disabled', 'endpoint.recovered', 'delivery.dead_lettered'];

/**
 * Operational webhooks: a webhook endpoint that lists the notices in `events` hears, signed
 * like any webhook, when another of the tenant's endpoints turns degraded, recovers or is
 * disabled, and when a delivery dead-letters. It gets no alerts unless it lists them too,
 * and never notices about itself.
 */
describe('operational webhooks', () => {
  let stack: Stack;
  let ops: WebhookReceiver;
  let target: WebhookReceiver;
  let api: ApiClient;
  let opsSecret: string;
  let opsId: string;
  let targetId: string;

  const noticesOf = (event: string) => ops.received.filter((w) => w.body.event === event);
  const test = async () => expect((await api.post(`/v1/endpoints/${targetId}/test`, {})).status).toBe(202);
  const waitNotices = (event: string, count: number) =>
    waitFor(() => noticesOf(event).length >= count && noticesOf(event), { description: `${count} ${event} notice(s)` });

  beforeAll(async () => {
    [stack, ops, target] = await Promise.all([startStack(['api', 'severity-router', 'dispatcher']), WebhookReceiver.start(), WebhookReceiver.start()]);
    ({ client: api } = await ApiClient.tenant(stack.apiUrl, 'ops'));
    const created = await api.post<{ id: string; secret: string }>('/v1/endpoints', { name: 'ops', url: ops.url, events: NOTICES });
    expect(created.status).toBe(201);
    [opsId, opsSecret] = [created.body.id, created.body.secret];
    const watched = await api.post<{ id: string }>('/v1/endpoints', { name: 'watched', url: target.url, retry_schedule_seconds: [0] });
    targetId = watched.body.id;
  });

  afterAll(async () => {
    await stack?.close();
    await Promise.all([ops?.close(), target?.close()]);
  });

  it('refuses operational notices on an endpoint that is not a webhook, naming events', async () => {
    const res = await api.post('/v1/endpoints', { name: 'x', type: 'email', config: { to: ['a@example.com'] }, events: ['endpoint.disabled'] });
    expect([res.status, JSON.stringify(res.body)]).toEqual([400, expect.stringContaining('events')]);
  });

  it('sends a signed notice for each dead-letter, and for degraded, recovered and disabled, in order', async () => {
    target.respondWith(() => ({ status: 400, body: 'bad' }));
    for (let i = 0; i < 4; i++) await test();
    const dead = await waitNotices('delivery.dead_lettered', 4);
    const [degraded] = await waitNotices('endpoint.degraded', 1);
    expect(degraded!.body).toMatchObject({
      event: 'endpoint.degraded',
      endpoint: { id: targetId, name: 'watched', url: target.url, status: 'degraded' },
      failed: 4,
      of: 4,
    });
    expect(dead[0]!.body).toMatchObject({
      event: 'delivery.dead_lettered',
      endpoint: { id: targetId },
      delivery: { event: 'webhook.test', attempts: 1, reason: expect.stringContaining('HTTP 400') },
    });

    // Three successes clear degraded; the ones after them do not flap it back, though half the
    // latest attempts are still the failures. After six, the 410 below leaves four failures in
    // the latest ten: disabled, without degraded again.
    target.respondWith(() => ({ status: 200, body: 'ok' }));
    for (let i = 0; i < 6; i++) await test();
    const [recovered] = await waitNotices('endpoint.recovered', 1);
    expect(recovered!.body).toMatchObject({ endpoint: { id: targetId, status: 'active' } });
    await waitFor(async () => {
      const { body } = await api.get<{ data: Array<{ status: string }> }>(`/v1/endpoints/${targetId}/deliveries?status=delivered`);
      return body.data.length === 6;
    }, { description: 'six test messages delivered' });

    target.respondWith(() => ({ status: 410, body: 'gone' }));
    await test();
    const [disabled] = await waitNotices('endpoint.disabled', 1);
    expect(disabled!.body).toMatchObject({ endpoint: { id: targetId, status: 'disabled' }, reason: expect.stringContaining('410') });
    await waitNotices('delivery.dead_lettered', 5);

    const all: ReceivedWebhook[] = ops.received;
    expect(all.every((w) => WebhookReceiver.verify(opsSecret, w))).toBe(true);
    expect(all.every((w) => w.headers['x-tocsin-event'] === w.body.event)).toBe(true);
    // The endpoint's own transitions arrive in the order they happened.
    expect(all.filter((w) => String(w.body.event).startsWith('endpoint.')).map((w) => w.body.event)).toEqual([
      'endpoint.degraded',
      'endpoint.recovered',
      'endpoint.disabled',
    ]);
    expect(new Set(all.map((w) => w.body.event_id)).size).toBe(all.length);
    // No alert and no test message reaches the ops endpoint, and nothing about itself.
    expect(all.filter((w) => !NOTICES.includes(String(w.body.event)))).toEqual([]);
    expect(all.filter((w) => (w.body.endpoint as { id: string }).id === opsId)).toEqual([]);
  });
});
