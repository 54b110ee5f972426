import { createHmac, timingSafeEqual } from 'node:crypto';
import { isStorableText } from '@tocsin/contracts';

/**
 * The pure half of inbound receivers (DESIGN §6): reading fields by dot path, mapping a
 * sender's status words onto Tocsin's four statuses, and checking the sender's signature.
 * No I/O here, so every rule is unit-tested on its own.
 */

export const RECEIVER_STATUSES = ['operational', 'degraded', 'down', 'maintenance'] as const;
export type ReceiverStatus = (typeof RECEIVER_STATUSES)[number];

/** Raw words (lower case) → status. A receiver's own mapping is consulted first. */
export const DEFAULT_STATUS_MAPPING: Readonly<Record<string, ReceiverStatus>> = Object.freeze({
  operational: 'operational',
  up: 'operational',
  ok: 'operational',
  healthy: 'operational',
  none: 'operational',
  resolved: 'operational',
  degraded: 'degraded',
  partial: 'degraded',
  warning: 'degraded',
  minor: 'degraded',
  down: 'down',
  outage: 'down',
  major: 'down',
  critical: 'down',
  error: 'down',
  maintenance: 'maintenance',
  scheduled: 'maintenance',
  under_maintenance: 'maintenance',
});

export const DEFAULT_SIGNATURE_HEADER = 'X-Webhook-Signature';

/** `a.b.0.c`: object keys and array indexes; only own properties, so `__proto__` reads nothing. */
export const DOT_PATH = /^[^.\s\u0000-\u001f]+(\.[^.\s\u0000-\u001f]+)*$/;

export function readDotPath(document: unknown, path: string): unknown {
  let current: unknown = document;
  for (const segment of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    if (Array.isArray(current)) {
      if (!/^\d+$/.test(segment)) return undefined;
      current = current[Number(segment)];
    } else {
      if (!Object.prototype.hasOwnProperty.call(current, segment)) return undefined;
      current = (current as Record<string, unknown>)[segment];
    }
  }
  return current;
}

/** A field's value as the text a status or service name is matched on; objects and arrays have none. */
export function fieldText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

/** Mapping keys compare case-insensitively and without surrounding blanks. */
export function normaliseStatusWord(raw: string): string {
  return raw.trim().toLowerCase();
}

export function normaliseMapping(mapping: Readonly<Record<string, ReceiverStatus>>): Record<string, ReceiverStatus> {
  return Object.fromEntries(Object.entries(mapping).map(([raw, status]) => [normaliseStatusWord(raw), status]));
}

/** The receiver's mapping first, then the default table; undefined means "ignored". */
export function mapStatus(raw: string, mapping: Readonly<Record<string, ReceiverStatus>> = {}): ReceiverStatus | undefined {
  const word = normaliseStatusWord(raw);
  if (Object.prototype.hasOwnProperty.call(mapping, word)) return mapping[word];
  if (Object.prototype.hasOwnProperty.call(DEFAULT_STATUS_MAPPING, word)) return DEFAULT_STATUS_MAPPING[word];
  return undefined;
}

/** Hex HMAC-SHA256 of the raw body keyed with the secret, as senders compute it. */
export function signBody(secret: string, rawBody: Buffer | string): string {
  return createHmac('sha256', secret).update(rawBody).digest('hex');
}

export type SignatureCheck = { ok: true } | { ok: false; reason: string };

/** Accepts `<hex>` or `sha256=<hex>`, compared in constant time. */
export function checkSignature(secret: string, rawBody: Buffer | string, header: string | undefined): SignatureCheck {
  if (header === undefined || header.trim() === '') return { ok: false, reason: 'signature header is missing' };
  const given = header.trim().replace(/^sha256=/i, '').toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(given)) return { ok: false, reason: 'signature is not a hex HMAC-SHA256' };
  const expected = Buffer.from(signBody(secret, rawBody), 'hex');
  return timingSafeEqual(expected, Buffer.from(given, 'hex')) ? { ok: true } : { ok: false, reason: 'signature does not match the body' };
}

/** What a mapped status means for the probe pipeline: `down` is a failed probe at layer http. */
export function probeOutcome(status: ReceiverStatus): { ok: boolean; failure_layer?: 'http' } {
  return status === 'down' ? { ok: false, failure_layer: 'http' } : { ok: true };
}

/**
 * A one-line setting (a name, a dot path, a header name): text Postgres stores as given
 * (the contracts sanitiser's test) and no control characters either.
 */
export function isSingleLineText(value: string): boolean {
  return !/[\u0000-\u001f]/.test(value) && isStorableText(value);
}
