import { randomUUID } from 'node:crypto';
import type { ProbeResult } from '@tocsin/contracts';
import { dedupKey } from '../src/monitors/dedup-key';
import { INITIAL_STATE, rebuild, recordProbe, type MonitorState } from '../src/monitors/monitor.aggregate';

const settings = {
  tenantId: 'tenant-a',
  monitorId: 'monitor-1',
  slug: 'docs-mcp',
  url: 'http://127.0.0.1:1/mcp',
  confirmAfter: 3,
  recoverAfter: 1,
};

let clock = Date.parse('2026-01-01T00:00:00Z');
function probe(ok: boolean, extra: Partial<ProbeResult> = {}): ProbeResult {
  clock += 1000;
  return {
    event_id: randomUUID(),
    tenant_id: settings.tenantId,
    monitor_id: settings.monitorId,
    observed_at: new Date(clock).toISOString(),
    ok,
    source: 'active',
    ...(ok ? {} : { failure_layer: 'transport', error: 'ECONNREFUSED' }),
    ...extra,
  };
}

function run(state: MonitorState, probes: ProbeResult[]) {
  const events = [];
  for (const p of probes) {
    const decision = recordProbe(state, p, settings);
    state = decision.state;
    events.push(...decision.events);
  }
  return { state, events };
}

describe('monitor aggregate', () => {
  it('opens one incident on the third consecutive failure, with P1 for transport', () => {
    const first = probe(false);
    const { events, state } = run(INITIAL_STATE, [first, probe(false), probe(false), probe(false)]);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: 'IncidentOpened',
      data: {
        incident_seq: 1,
        dedup_key: dedupKey('tenant-a', 'monitor-1', 1),
        failure_layer: 'transport',
        severity: 'P1',
        probe_count: 3,
        started_at: first.observed_at,
      },
    });
    expect(state.open?.probeCount).toBe(4);
    expect(state.version).toBe(1);
  });

  it('does not open on interrupted streaks', () => {
    const { events } = run(INITIAL_STATE, [probe(false), probe(false), probe(true), probe(false), probe(false)]);
    expect(events).toEqual([]);
  });

  it('resolves with the same dedup key, resolved_at and duration', () => {
    const opened = run(INITIAL_STATE, [probe(false), probe(false), probe(false)]);
    const good = probe(true);
    const { events, state } = run(opened.state, [good, probe(true)]);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: 'IncidentResolved',
      data: { dedup_key: opened.state.open?.dedupKey, resolved_at: good.observed_at, duration_seconds: 3 },
    });
    expect(state.open).toBeNull();
  });

  it('gives the next incident a new key and uses P2 for initialize failures', () => {
    const first = run(INITIAL_STATE, [probe(false), probe(false), probe(false), probe(true)]);
    const fail = () => probe(false, { failure_layer: 'initialize' });
    const second = run(first.state, [fail(), fail(), fail()]);
    expect(second.events[0]).toMatchObject({ data: { incident_seq: 2, severity: 'P2', failure_layer: 'initialize' } });
    expect(second.events[0]?.data.dedup_key).not.toBe(first.events[0]?.data.dedup_key);
  });

  it('ignores a result older than the last one seen', () => {
    const late = probe(false);
    const { state } = run(INITIAL_STATE, [probe(true)]);
    expect(recordProbe(state, late, settings).state).toBe(state);
  });

  it('rebuilds the same incident state from its events', () => {
    const { events, state } = run(INITIAL_STATE, [probe(false), probe(false), probe(false)]);
    const rebuilt = rebuild(events);
    expect(rebuilt.open?.dedupKey).toBe(state.open?.dedupKey);
    expect(rebuilt.version).toBe(state.version);
  });
});
