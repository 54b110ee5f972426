import { sortPushedResults } from '../src/probe-results/push-validation';

describe('pushed results, item by item', () => {
  const clock = { now: new Date('2026-06-01T12:00:00Z'), maxClockSkewSeconds: 300 };
  const base = { monitor_id: 'api', ok: true };

  it('refuses a result stamped past the allowed skew, with the reason, and keeps the others', () => {
    const sorted = sortPushedResults(
      [
        { ...base, observed_at: '2099-01-01T00:00:00Z' },
        { ...base, observed_at: '2026-06-01T12:04:59Z' },
        { ...base, observed_at: '2026-06-01T12:05:01Z' },
        { ...base, observed_at: '2020-01-01T00:00:00Z' },
      ],
      clock,
    );
    expect(sorted.valid.map((v) => v.index)).toEqual([1, 3]);
    expect(sorted.rejected.map((r) => r.index)).toEqual([0, 2]);
    expect(sorted.rejected[0]!.reason).toMatch(/^observed_at: 2099-01-01T00:00:00Z is \d+ s ahead of the server's clock; at most 300 s/);
  });

  it('refuses identifiers Postgres could not store as sent, and makes free text storable', () => {
    const sorted = sortPushedResults(
      [
        { ...base, tools_hash: 'x\ud800' },
        { ...base, tools_hash: 'a\u0000b' },
        { monitor_id: 'api\udc00', ok: true },
        { ...base, ok: false, failure_layer: 'tools_list', error: 'cut in the middle \ud83d and a NUL \u0000 here' },
      ],
      clock,
    );
    expect(sorted.rejected.map((r) => [r.index, r.reason.split(':')[0]])).toEqual([
      [0, 'tools_hash'],
      [1, 'tools_hash'],
      [2, 'monitor_id'],
    ]);
    expect(sorted.rejected[0]!.reason).toMatch(/lone UTF-16 surrogates/);
    expect(sorted.valid).toHaveLength(1);
    expect(sorted.valid[0]!.result.error).toBe('cut in the middle \ufffd and a NUL  here');
  });
});
