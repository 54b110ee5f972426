import { createHmac, randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

export const SECRET_PREFIX = 'whsec_';

/** `whsec_<base64 of 32 random bytes>`, the Standard Webhooks secret format. */
export function generateWebhookSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString('base64');
}

export function isWebhookSecret(value: string): boolean {
  if (!value.startsWith(SECRET_PREFIX)) return false;
  return Buffer.from(value.slice(SECRET_PREFIX.length), 'base64').length >= 24;
}

export interface SignInput {
  /** The delivery id: the same on every retry and redelivery. */
  readonly webhookId: string;
  readonly timestamp: Date;
  readonly body: string;
  /** Valid secrets, newest first; during a rotation's overlap the older ones still sign. */
  readonly secrets: readonly string[];
}

export interface SignatureHeaders {
  readonly 'webhook-id': string;
  readonly 'webhook-timestamp': string;
  readonly 'webhook-signature': string;
  readonly 'x-tocsin-signature': string;
}

/**
 * DESIGN §5 signatures: Standard Webhooks (one `v1,` signature per valid secret) and
 * `x-tocsin-signature`, an HMAC of the raw body keyed with the newest whole secret string.
 */
export function signWebhook(input: SignInput): SignatureHeaders {
  const [newest] = input.secrets;
  if (newest === undefined) throw new Error('signWebhook needs at least one secret');
  const signatures = input.secrets.map((secret) =>
    new Webhook(secret).sign(input.webhookId, input.timestamp, input.body),
  );
  return {
    'webhook-id': input.webhookId,
    'webhook-timestamp': String(Math.floor(input.timestamp.getTime() / 1000)),
    'webhook-signature': signatures.join(' '),
    'x-tocsin-signature': `sha256=${createHmac('sha256', Buffer.from(newest, 'utf8')).update(input.body).digest('hex')}`,
  };
}
