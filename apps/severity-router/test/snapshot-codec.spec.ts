import { randomUUID } from 'node:crypto';
import type { ProbeResult } from '@tocsin/contracts';
import { INITIAL_STATE, recordProbe, type MonitorState } from '../src/monitors/monitor.aggregate';
import { compactState, expandState } from '../src/monitors/monitor.repository';
import { monitorSettings } from './monitor-settings.fixture';

// Results are held back, so the snapshot carries pending ones.
const settings = monitorSettings({ reorderToleranceMs: 120_000 });

let clock = Date.parse('2026-03-01T00:00:00Z');
function probe(extra: Partial<ProbeResult>): ProbeResult {
  clock += 60_000;
  return { event_id: randomUUID(), tenant_id: 'tenant-a', monitor_id: 'monitor-1', observed_at: new Date(clock).toISOString(), ok: true, source: 'kafka', ...extra };
}

/** The snapshot as it goes through Postgres: compacted, to JSON and back, expanded. */
const roundTrip = (state: MonitorState) => expandState(JSON.parse(JSON.stringify(compactState(state))) as Partial<MonitorState>);

describe('monitor snapshot codec', () => {
  it('gives back every state the aggregate reaches, null fields of held-back results included', () => {
    const probes = [
      probe({ latency_ms: 12 }),
      probe({ tools: [{ name: 'search', hash: 'a1' }], tools_hash: 'h1' }),
      probe({ ok: false, failure_layer: 'http', http_status: 502, error: 'HTTP 502' }),
      probe({ ok: false, failure_layer: 'initialize', error: 'bad version' }),
      probe({ ok: false, failure_layer: 'transport', error: 'ECONNREFUSED' }),
      probe({ ok: false, failure_layer: 'transport', error: 'ECONNREFUSED' }),
      probe({ latency_ms: 9 }),
    ];
    let state = INITIAL_STATE;
    let sawPending = false;
    for (const p of probes) {
      state = recordProbe(state, p, settings).state;
      sawPending ||= state.pending.length > 0;
      expect(roundTrip(state)).toEqual(state);
    }
    expect(sawPending).toBe(true);
    expect(roundTrip(INITIAL_STATE)).toEqual(INITIAL_STATE);
  });

  it('drops the empty fields of held-back results from what is stored', () => {
    const state = recordProbe(INITIAL_STATE, probe({ latency_ms: 12 }), settings).state;
    expect(state.pending).toHaveLength(1);
    const stored = JSON.parse(JSON.stringify(compactState(state))) as { pending: Array<Record<string, unknown>> };
    expect(Object.values(stored.pending[0]!)).not.toContain(null);
  });
});
