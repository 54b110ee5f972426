import { randomUUID } from 'node:crypto';
import { parseWith, probeResultSchema } from '../src';

const valid = {
  event_id: randomUUID(),
  tenant_id: 't1',
  monitor_id: 'm1',
  observed_at: new Date().toISOString(),
  ok: false,
  failure_layer: 'transport',
  error: 'ECONNREFUSED',
  source: 'kafka',
};

describe('ProbeResult schema', () => {
  it('accepts a well-formed failed result', () => {
    expect(parseWith(probeResultSchema, valid)).toEqual({ ok: true, value: valid });
  });

  it('names the offending field', () => {
    const parsed = parseWith(probeResultSchema, { ...valid, failure_layer: 'dns', event_id: 'x' });
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.issues.map((i) => i.field).sort()).toEqual(['event_id', 'failure_layer']);
  });

  it('keeps auth: protected on a healthy result, and refuses any other auth state', () => {
    const healthy = { ...valid, ok: true, failure_layer: undefined, error: undefined, auth: 'protected', http_status: 401 };
    expect(parseWith(probeResultSchema, healthy)).toMatchObject({ ok: true, value: { ok: true, auth: 'protected' } });
    expect(parseWith(probeResultSchema, { ...healthy, auth: 'public' })).toMatchObject({ ok: false, issues: [{ field: 'auth' }] });
  });

  it('refuses a failure without a layer', () => {
    const { failure_layer: _layer, ...rest } = valid;
    const parsed = parseWith(probeResultSchema, rest);
    expect(parsed).toMatchObject({ ok: false, issues: [{ field: 'failure_layer' }] });
  });
});
