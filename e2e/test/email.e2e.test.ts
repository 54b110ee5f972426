import { SmtpCatcher, WebhookReceiver, waitFor } from '@tocsin/testing';
import { ApiClient, startStack, type Stack } from '../src';

interface Delivery {
  id: string;
  endpoint_id: string;
  event: string;
  status: string;
  dedup_key: string;
  fallback_of: string | null;
  attempt_count: number;
  events?: Array<{ type: string; data: Record<string, unknown> }>;
}

/**
 * An `email` endpoint sends each alert as a plain-text and HTML message through a real SMTP
 * server (TOCSIN_SMTP_URL), through the same deliveries and retries as a webhook (a 4xx
 * reply is retried, a 5xx dead-letters). And an endpoint may name a fallback: a P1 it
 * cannot deliver (dead-lettered, or the endpoint paused) goes out by the fallback as its
 * own delivery linked to the first; a P2 does not.
 */
describe('email endpoints and the P1 fallback', () => {
  let stack: Stack;
  let smtp: SmtpCatcher;
  let receiver: WebhookReceiver;
  let api: ApiClient;
  let emailId: string;
  let webhookId: string;

  const push = (monitor: string, ok: boolean, failure_layer = 'transport') =>
    api.post('/v1/probe-results', { results: [{ monitor_id: monitor, ok, ...(ok ? {} : { failure_layer, error: `${monitor} <b>refused</b>` }) }] });
  const outage = async (monitor: string, failure_layer: string) => {
    for (let i = 0; i < 3; i++) expect((await push(monitor, false, failure_layer)).status).toBe(202);
  };
  const deliveries = async (endpointId: string) =>
    (await api.get<{ data: Delivery[] }>(`/v1/endpoints/${endpointId}/deliveries`)).body.data;
  const mailsAbout = (slug: string) => smtp.messages.filter((m) => m.parsed.subject?.includes(slug));

  beforeAll(async () => {
    [smtp, receiver] = await Promise.all([SmtpCatcher.start(), WebhookReceiver.start()]);
    // Two failures in a row open a breaker, so the breaker case below needs no long run of them.
    stack = await startStack(['api', 'severity-router', 'dispatcher'], {
      TOCSIN_SMTP_URL: smtp.url,
      TOCSIN_SMTP_FROM: 'Tocsin <alerts@tocsin.test>',
      TOCSIN_BREAKER_THRESHOLD: '2',
    });
    ({ client: api } = await ApiClient.tenant(stack.apiUrl, 'email'));
    // The email endpoint takes no alert of its own but drift: whatever else it sends, it sends as the fallback.
    const email = await api.post<{ id: string; type: string; url: string; secret?: string }>('/v1/endpoints', {
      name: 'on-call mailbox',
      type: 'email',
      config: { to: ['oncall@example.com', 'lead@example.com'] },
      events: ['schema_drift_detected'],
      retry_schedule_seconds: [0, 1, 1],
    });
    expect(email.status).toBe(201);
    expect(email.body).toMatchObject({ type: 'email', url: 'mailto:oncall@example.com,lead@example.com' });
    expect(email.body.secret).toBeUndefined();
    emailId = email.body.id;
    // The webhook refuses everything for good: each delivery dead-letters on its first attempt.
    receiver.respondWith(() => ({ status: 400, body: 'no' }));
    const hook = await api.post<{ id: string; fallback_endpoint_id: string | null }>('/v1/endpoints', {
      name: 'pager bridge',
      url: receiver.url,
      fallback_endpoint_id: emailId,
    });
    expect([hook.status, hook.body.fallback_endpoint_id]).toEqual([201, emailId]);
    webhookId = hook.body.id;
    for (const slug of ['payments', 'docs', 'search', 'ledger', 'billing']) {
      expect((await api.post('/v1/monitors', { slug, name: slug, url: `https://${slug}.example.com/mcp` })).status).toBe(201);
    }
  });

  afterAll(async () => {
    await stack?.close();
    await Promise.all([smtp?.close(), receiver?.close()]);
  });

  it('refuses an email endpoint without recipients, with a bad address or with a webhook field, naming the field', async () => {
    for (const [body, field] of [
      [{ name: 'x', type: 'email' }, 'to'],
      [{ name: 'x', type: 'email', config: { to: ['not an address'] } }, 'to'],
      [{ name: 'x', type: 'email', config: { to: ['a@example.com', 'A@example.com'] } }, 'to'],
      [{ name: 'x', type: 'email', config: { to: ['a@example.com'] }, url: receiver.url }, 'url'],
      [{ name: 'x', type: 'email', config: { to: ['a@example.com'], routing_key: 'a'.repeat(32) } }, 'routing_key'],
      [{ name: 'x', url: receiver.url, fallback_endpoint_id: '00000000-0000-4000-8000-000000000000' }, 'fallback_endpoint_id'],
    ] as const) {
      const res = await api.post('/v1/endpoints', body);
      expect([res.status, JSON.stringify(res.body)]).toEqual([400, expect.stringContaining(field)]);
    }
    const self = await api.call('PATCH', `/v1/endpoints/${webhookId}`, { fallback_endpoint_id: webhookId });
    expect([self.status, JSON.stringify(self.body)]).toEqual([400, expect.stringContaining('itself')]);
    expect((await api.post(`/v1/endpoints/${emailId}/rotate-secret`, {})).status).toBe(409);
  });

  it('sends a P1 that dead-lettered on the webhook by email, and its recovery after it; a P2 stays dead-lettered', async () => {
    await outage('docs', 'initialize');
    await outage('payments', 'transport');
    const [mail] = await waitFor(() => mailsAbout('payments').length > 0 && mailsAbout('payments'), { description: 'the P1 by email' });
    expect(mail!.to).toEqual(['oncall@example.com', 'lead@example.com']);
    expect(mail!.from).toBe('alerts@tocsin.test');
    expect(mail!.parsed.subject).toBe('[Tocsin P1] payments is down (transport)');
    expect(mail!.parsed.text).toContain('Last error: payments <b>refused</b>');
    expect(mail!.parsed.html).toContain('payments &lt;b&gt;refused&lt;/b&gt;');

    const onHook = await waitFor(async () => {
      const rows = await deliveries(webhookId);
      return rows.length === 2 && rows.every((d) => d.status === 'dead_lettered') && rows;
    }, { description: 'both alerts dead-lettered on the webhook' });
    const p1 = onHook.find((d) => d.event === 'downtime_started' && mailsAbout('payments')[0]!.parsed.headers.get('x-tocsin-dedup-key') === d.dedup_key)!;
    const fallback = await waitFor(async () => (await deliveries(emailId)).find((d) => d.status === 'delivered'), { description: 'the fallback delivery' });
    expect(fallback).toMatchObject({ fallback_of: p1.id, dedup_key: p1.dedup_key, event: 'downtime_started' });
    const first = await api.get<Delivery>(`/v1/deliveries/${p1.id}`);
    expect(first.body.events!.map((e) => e.type)).toEqual(['DeliveryCreated', 'AttemptStarted', 'AttemptFailed', 'DeadLettered', 'FallbackQueued']);
    expect(first.body.events!.at(-1)!.data).toMatchObject({ fallback_delivery_id: fallback.id, fallback_endpoint_id: emailId });

    expect((await push('payments', true)).status).toBe(202);
    const [, recovered] = await waitFor(() => mailsAbout('payments').length === 2 && mailsAbout('payments'), { description: 'the recovery by email' });
    expect(recovered!.parsed.subject).toBe('[Tocsin P1] payments recovered');
    // One thread per incident: both messages refer to the incident's dedup key.
    expect(recovered!.parsed.inReplyTo).toBe(mail!.parsed.inReplyTo);
    // The P2 dead-lettered on the webhook and went nowhere else.
    expect(mailsAbout('docs')).toEqual([]);
    expect((await deliveries(emailId)).map((d) => d.fallback_of !== null)).toEqual([true, true]);
  });

  it('sends a paused endpoint’s P1 by its fallback, retrying the mail server’s 451', async () => {
    expect((await api.post<{ status: string }>(`/v1/endpoints/${webhookId}/pause`, {})).body.status).toBe('paused');
    smtp.refuse(451, 'greylisted, try again later');
    await outage('search', 'http');
    const [mail] = await waitFor(() => mailsAbout('search').length > 0 && mailsAbout('search'), { description: 'the paused endpoint’s P1 by email' });
    expect(mail!.parsed.subject).toBe('[Tocsin P1] search is down (http)');
    const skipped = (await deliveries(webhookId)).find((d) => d.status === 'skipped')!;
    const sent = (await deliveries(emailId)).find((d) => d.fallback_of === skipped.id)!;
    expect([sent.status, sent.attempt_count]).toEqual(['delivered', 2]);
    const detail = await api.get<{ attempts: Array<{ error_class: string | null }> }>(`/v1/deliveries/${sent.id}`);
    expect(detail.body.attempts.map((a) => a.error_class)).toEqual(['smtp_deferred', null]);
  });

  it('sends a P1 held back by an open breaker by the fallback at once, and pages the fallback once; a P2 keeps waiting', async () => {
    const flaky = await WebhookReceiver.start();
    try {
      flaky.respondWith(() => ({ status: 503, body: 'overloaded' }));
      const hook = await api.post<{ id: string }>('/v1/endpoints', {
        name: 'flaky bridge',
        url: flaky.url,
        fallback_endpoint_id: emailId,
        retry_schedule_seconds: [0, 1, 1, 1, 1, 1, 1, 1],
      });
      expect(hook.status).toBe(201);
      await outage('ledger', 'initialize');
      await waitFor(async () => (await api.get<{ breaker: { state: string } }>(`/v1/endpoints/${hook.body.id}`)).body.breaker.state === 'open', {
        description: 'the breaker open after two failures of the P2',
      });
      await outage('billing', 'transport');
      const [mail] = await waitFor(() => mailsAbout('billing').length > 0 && mailsAbout('billing'), { description: 'the held P1 by email' });
      expect(mail!.parsed.subject).toBe('[Tocsin P1] billing is down (transport)');
      const held = await waitFor(async () => (await deliveries(hook.body.id)).find((d) => d.dedup_key === mail!.parsed.headers.get('x-tocsin-dedup-key') && d.status === 'skipped'), {
        description: 'the held P1 skipped on the flaky endpoint',
      });
      const detail = await api.get<Delivery>(`/v1/deliveries/${held.id}`);
      expect(detail.body.events!.slice(-2).map((e) => [e.type, e.data.reason ?? null])).toEqual([
        ['Skipped', 'breaker open'],
        ['FallbackQueued', 'breaker open'],
      ]);
      // The paused endpoint handed the same P1 over too: the fallback has it once.
      expect((await deliveries(emailId)).filter((d) => d.dedup_key === held.dedup_key)).toHaveLength(1);
      expect(mailsAbout('ledger')).toEqual([]);
      const p2 = (await deliveries(hook.body.id)).find((d) => d.dedup_key !== held.dedup_key)!;
      expect(['pending', 'retrying', 'in_flight']).toContain(p2.status);
    } finally {
      await flaky.close();
    }
  });

  it('forgets a fallback that is deleted', async () => {
    expect((await api.call('DELETE', `/v1/endpoints/${emailId}`)).status).toBe(204);
    const hook = await api.get<{ fallback_endpoint_id: string | null }>(`/v1/endpoints/${webhookId}`);
    expect(hook.body.fallback_endpoint_id).toBeNull();
  });
});
