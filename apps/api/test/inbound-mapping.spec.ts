import { createHmac } from 'node:crypto';
import {
  checkSignature,
  DEFAULT_STATUS_MAPPING,
  fieldText,
  isSingleLineText,
  mapStatus,
  normaliseMapping,
  probeOutcome,
  readDotPath,
  signBody,
} from '../src/receivers/inbound-mapping';

describe('readDotPath', () => {
  const doc = {
    data: { attributes: { current_status: 'Major' } },
    components: [{ name: 'api', status: 'down' }],
    'weird-key': 1,
  };

  it('walks nested objects', () => {
    expect(readDotPath(doc, 'data.attributes.current_status')).toBe('Major');
  });

  it('indexes arrays by number', () => {
    expect(readDotPath(doc, 'components.0.status')).toBe('down');
    expect(readDotPath(doc, 'components.1.status')).toBeUndefined();
    expect(readDotPath(doc, 'components.first')).toBeUndefined();
  });

  it('answers undefined for missing paths and through scalars', () => {
    expect(readDotPath(doc, 'data.nope')).toBeUndefined();
    expect(readDotPath(doc, 'data.attributes.current_status.length')).toBeUndefined();
    expect(readDotPath(null, 'a')).toBeUndefined();
    expect(readDotPath('text', 'a')).toBeUndefined();
  });

  it('reads only own properties', () => {
    expect(readDotPath({}, '__proto__')).toBeUndefined();
    expect(readDotPath({}, 'constructor.name')).toBeUndefined();
    expect(readDotPath({}, 'toString')).toBeUndefined();
  });

  it('reads keys with dashes', () => {
    expect(readDotPath(doc, 'weird-key')).toBe(1);
  });
});

describe('fieldText', () => {
  it('turns scalars into text and refuses objects', () => {
    expect(fieldText('up')).toBe('up');
    expect(fieldText(503)).toBe('503');
    expect(fieldText(true)).toBe('true');
    expect(fieldText({ a: 1 })).toBeUndefined();
    expect(fieldText(['up'])).toBeUndefined();
    expect(fieldText(null)).toBeUndefined();
  });
});

describe('mapStatus', () => {
  it('knows every word of the default table, in any case', () => {
    const table: Record<string, string[]> = {
      operational: ['operational', 'up', 'ok', 'healthy', 'none', 'resolved'],
      degraded: ['degraded', 'partial', 'warning', 'minor'],
      down: ['down', 'outage', 'major', 'critical', 'error'],
      maintenance: ['maintenance', 'scheduled', 'under_maintenance'],
    };
    for (const [status, words] of Object.entries(table)) {
      for (const word of words) {
        expect([word, mapStatus(word)]).toEqual([word, status]);
        expect([word, mapStatus(word.toUpperCase())]).toEqual([word, status]);
        expect([word, mapStatus(` ${word} `)]).toEqual([word, status]);
      }
    }
    expect(Object.keys(DEFAULT_STATUS_MAPPING)).toHaveLength(18);
  });

  it('leaves unknown words unmapped', () => {
    expect(mapStatus('investigating')).toBeUndefined();
    expect(mapStatus('')).toBeUndefined();
    expect(mapStatus('__proto__')).toBeUndefined();
    expect(mapStatus('constructor')).toBeUndefined();
  });

  it('lets a receiver mapping add words and override defaults, case-insensitively', () => {
    const mapping = normaliseMapping({ Investigating: 'degraded', ERROR: 'degraded', Red: 'down' });
    expect(mapStatus('investigating', mapping)).toBe('degraded');
    expect(mapStatus('error', mapping)).toBe('degraded');
    expect(mapStatus('RED', mapping)).toBe('down');
    expect(mapStatus('up', mapping)).toBe('operational');
  });
});

describe('checkSignature', () => {
  const secret = 'receiver-secret';
  const body = '{"status":"down"}';
  const hex = createHmac('sha256', secret).update(body).digest('hex');

  it('accepts the hex HMAC-SHA256 of the raw body, bare or with sha256=', () => {
    expect(signBody(secret, body)).toBe(hex);
    expect(checkSignature(secret, body, hex)).toEqual({ ok: true });
    expect(checkSignature(secret, Buffer.from(body), `sha256=${hex}`)).toEqual({ ok: true });
    expect(checkSignature(secret, body, `SHA256=${hex.toUpperCase()}`)).toEqual({ ok: true });
  });

  it('refuses a missing, malformed or wrong signature with a reason', () => {
    expect(checkSignature(secret, body, undefined)).toEqual({ ok: false, reason: 'signature header is missing' });
    expect(checkSignature(secret, body, 'sha256=xyz')).toEqual({ ok: false, reason: 'signature is not a hex HMAC-SHA256' });
    expect(checkSignature('other', body, hex)).toEqual({ ok: false, reason: 'signature does not match the body' });
    expect(checkSignature(secret, `${body} `, hex)).toEqual({ ok: false, reason: 'signature does not match the body' });
  });
});

describe('probeOutcome', () => {
  it('counts only down as a failed probe, at layer http', () => {
    expect(probeOutcome('down')).toEqual({ ok: false, failure_layer: 'http' });
    expect(probeOutcome('degraded')).toEqual({ ok: true });
    expect(probeOutcome('operational')).toEqual({ ok: true });
    expect(probeOutcome('maintenance')).toEqual({ ok: true });
  });
});

describe('isSingleLineText', () => {
  it('refuses NUL, control characters and lone surrogates', () => {
    expect(isSingleLineText('Major Outage 😀')).toBe(true);
    expect(isSingleLineText('a\0b')).toBe(false);
    expect(isSingleLineText('a\nb')).toBe(false);
    expect(isSingleLineText('x\uD800')).toBe(false);
    expect(isSingleLineText('\uDC00x')).toBe(false);
  });
});
