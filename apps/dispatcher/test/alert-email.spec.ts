import { SmtpCatcher } from '@tocsin/testing';
import { webhookBodyFixture } from './webhook-body-fixture';
import { alertEmail } from '../src/deliveries/alert-email';
import { MailClient } from '../src/http/mail-client';

const body = webhookBodyFixture;
const DELIVERY = '11111111-1111-4111-8111-111111111111';

describe('alertEmail', () => {
  it('says severity, server and layer in the subject and every fact in both parts', () => {
    const email = alertEmail(body({ failure_layer: 'http', last_error: 'HTTP 503' }), DELIVERY);
    expect(email.subject).toBe('[Tocsin P1] docs is down (http)');
    for (const part of [email.text, email.html]) {
      for (const fact of ['docs', 'https://docs.example.com/mcp', 'downtime_started', 'http', 'HTTP 503', body().dedup_key, body().dashboard_url]) {
        expect([fact, part.includes(fact)]).toEqual([fact, true]);
      }
    }
    expect(email.messageId).toBe(`<${DELIVERY}@tocsin>`);
    expect(email.thread).toBe(`<${body().dedup_key}@tocsin>`);
  });

  it('escapes outside text in the HTML and keeps header values on one line', () => {
    const email = alertEmail(body({ server_slug: 'evil\r\nBcc: x@y', last_error: '<script>alert(1)</script>' }), DELIVERY);
    expect(email.html).not.toContain('<script>');
    expect(email.html).toContain('&lt;script&gt;');
    expect(email.subject).not.toMatch(/[\r\n]/);
  });

  it('says how long a resolved outage lasted, without its last error', () => {
    const email = alertEmail(body({ event: 'downtime_resolved', duration_seconds: 185, resolved_at: '2026-12-07T10:03:05.000Z' }), DELIVERY);
    expect(email.subject).toBe('[Tocsin P1] docs recovered');
    expect(email.text).toContain('Duration: 3 min 5 s');
    expect(email.text).not.toContain('ECONNREFUSED');
  });
});

describe('MailClient against a real SMTP server', () => {
  let smtp: SmtpCatcher;
  let client: MailClient;
  beforeAll(async () => {
    smtp = await SmtpCatcher.start();
    client = new MailClient(smtp.url, 'Tocsin <alerts@tocsin.test>');
  });
  afterAll(async () => {
    client.close();
    await smtp.close();
  });

  const send = () => client.send({ to: ['oncall@example.com', 'lead@example.com'], email: alertEmail(body(), DELIVERY), timeoutMs: 5_000 });

  it('delivers the message to every recipient, threaded by the dedup key', async () => {
    const response = await send();
    expect(response.result).toEqual({ kind: 'response', status: 250 });
    const [mail] = smtp.messages.splice(0);
    expect(mail!.to).toEqual(['oncall@example.com', 'lead@example.com']);
    expect(mail!.from).toBe('alerts@tocsin.test');
    expect(mail!.parsed.subject).toBe('[Tocsin P1] docs is down (transport)');
    expect(mail!.parsed.messageId).toBe(`<${DELIVERY}@tocsin>`);
    expect(mail!.parsed.inReplyTo).toBe(`<${body().dedup_key}@tocsin>`);
    expect(mail!.parsed.headers.get('x-tocsin-dedup-key')).toBe(body().dedup_key);
    expect(mail!.parsed.text).toContain('Last error: connect ECONNREFUSED');
    expect(mail!.parsed.html).toContain('<table>');
  });

  it('calls a 4xx a deferral and a 5xx a refusal, with the server reply kept', async () => {
    smtp.refuse(451, 'greylisted, try again later');
    const deferred = await send();
    expect(deferred.result).toMatchObject({ kind: 'error', errorClass: 'smtp_deferred' });
    expect(deferred.snippet).toContain('451');
    smtp.refuse(550, 'mailbox unavailable');
    const refused = await send();
    expect(refused.result).toMatchObject({ kind: 'error', errorClass: 'smtp_rejected' });
    expect(smtp.messages).toHaveLength(0);
  });

  it('defers, with the reason, when no mail server is configured or it cannot be reached', async () => {
    const none = await new MailClient(undefined, 'x@y.z').send({ to: ['a@b.c'], email: alertEmail(body(), DELIVERY), timeoutMs: 1000 });
    expect(none.result).toEqual({ kind: 'error', errorClass: 'smtp_deferred', message: expect.stringContaining('TOCSIN_SMTP_URL is not set') });
    const closed = new MailClient('smtp://127.0.0.1:1', 'x@y.z');
    const unreachable = await closed.send({ to: ['a@b.c'], email: alertEmail(body(), DELIVERY), timeoutMs: 5000 });
    closed.close();
    expect(unreachable.result).toMatchObject({ kind: 'error', errorClass: 'connection' });
  });
});
