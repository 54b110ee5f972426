import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { generateWebhookSecret, isWebhookSecret, signWebhook } from '../src';

describe('signWebhook', () => {
  const body = JSON.stringify({ event: 'downtime_started', dedup_key: 'k' });
  const timestamp = new Date();

  it('produces a Standard Webhooks signature the public verifier accepts', () => {
    const secret = generateWebhookSecret();
    const headers = signWebhook({ webhookId: 'msg_1', timestamp, body, secrets: [secret] });
    expect(new Webhook(secret).verify(body, { ...headers })).toEqual(JSON.parse(body));
  });

  it('matches the reference library byte for byte, multi-byte bodies included', () => {
    const secret = generateWebhookSecret();
    const unicode = JSON.stringify({ last_error: 'délai dépassé — 接続 ✓', n: 1 });
    for (const text of [body, unicode, '']) {
      const headers = signWebhook({ webhookId: 'msg_ref', timestamp, body: text, secrets: [secret] });
      expect(headers['webhook-signature']).toBe(new Webhook(secret).sign('msg_ref', timestamp, text));
      expect(headers['webhook-timestamp']).toBe(String(Math.floor(timestamp.getTime() / 1000)));
    }
  });

  it('signs with every secret during a rotation overlap', () => {
    const [newer, older] = [generateWebhookSecret(), generateWebhookSecret()];
    const headers = signWebhook({ webhookId: 'msg_2', timestamp, body, secrets: [newer, older] });
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(() => new Webhook(older).verify(body, { ...headers })).not.toThrow();
    expect(() => new Webhook(generateWebhookSecret()).verify(body, { ...headers })).toThrow();
  });

  it('keys x-tocsin-signature with the whole secret string, as receiver snippets expect', () => {
    const secret = generateWebhookSecret();
    const headers = signWebhook({ webhookId: 'msg_3', timestamp, body, secrets: [secret] });
    const expected = createHmac('sha256', secret).update(body).digest('hex');
    expect(headers['x-tocsin-signature']).toBe(`sha256=${expected}`);
  });

  it('generates secrets of the whsec_ form with 32 random bytes', () => {
    const secret = generateWebhookSecret();
    expect(isWebhookSecret(secret)).toBe(true);
    expect(Buffer.from(secret.slice(6), 'base64')).toHaveLength(32);
    expect(secret).not.toBe(generateWebhookSecret());
  });
});
