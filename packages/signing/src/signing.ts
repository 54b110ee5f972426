import { createHmac, randomBytes } from 'node:crypto';

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
 * The Standard Webhooks scheme is HMAC-SHA256, keyed with the secret's base64 part
 * decoded, of `<webhook-id>.<timestamp>.<body>`, in base64. It is computed with
 * node:crypto (the reference library hashes in JavaScript, several times slower); the
 * tests verify every signature with that library.
 */
export function signWebhook(input: SignInput): SignatureHeaders {
  const [newest] = input.secrets;
  if (newest === undefined) throw new Error('signWebhook needs at least one secret');
  const timestamp = String(Math.floor(input.timestamp.getTime() / 1000));
  const signed = `${input.webhookId}.${timestamp}.${input.body}`;
  const signatures = input.secrets.map((secret) => `v1,${createHmac('sha256', standardKey(secret)).update(signed).digest('base64')}`);
  return {
    'webhook-id': input.webhookId,
    'webhook-timestamp': timestamp,
    'webhook-signature': signatures.join(' '),
    'x-tocsin-signature': `sha256=${createHmac('sha256', Buffer.from(newest, 'utf8')).update(input.body).digest('hex')}`,
  };
}

/** The HMAC key of a Standard Webhooks secret: its base64 part (after `whsec_`), decoded. */
function standardKey(secret: string): Buffer {
  return Buffer.from(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret, 'base64');
}
