import fc from 'fast-check';
import type { ProbeResult } from '@tocsin/contracts';
import { INITIAL_STATE, recordProbe, type MonitorEvent } from '../src/monitors/monitor.aggregate';
import { monitorSettings } from './monitor-settings.fixture';

const TOLERANCE_MS = 5_000;
const STEP_MS = 1_000;
const settings = monitorSettings({ recoverAfter: 2, reorderToleranceMs: TOLERANCE_MS });
const start = Date.parse('2026-04-01T00:00:00Z');

const outcome = fc.oneof(
  fc.constant({ ok: true }),
  fc.constantFrom<Partial<ProbeResult>>(
    { ok: false, failure_layer: 'transport' },
    { ok: false, failure_layer: 'http' },
    { ok: false, failure_layer: 'initialize' },
    { ok: false, failure_layer: 'tools_list' },
  ),
);

function results(outcomes: ReadonlyArray<Partial<ProbeResult>>): ProbeResult[] {
  return outcomes.map((o, i) => ({
    event_id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    tenant_id: settings.tenantId,
    monitor_id: settings.monitorId,
    observed_at: new Date(start + i * STEP_MS).toISOString(),
    ok: o.ok ?? false,
    source: 'kafka',
    ...(o.failure_layer ? { failure_layer: o.failure_layer, error: `${o.failure_layer} failed` } : {}),
  }));
}

/** A final result far past the tolerance, so every held result is applied. */
function flushed(list: ProbeResult[], count: number): ProbeResult[] {
  return [...list, { ...results([{ ok: true }])[0]!, event_id: 'ffffffff-0000-4000-8000-000000000000', observed_at: new Date(start + count * STEP_MS + 60_000).toISOString() }];
}

function eventsOf(list: readonly ProbeResult[]): MonitorEvent[] {
  let state = INITIAL_STATE;
  const events: MonitorEvent[] = [];
  for (const r of list) {
    const d = recordProbe(state, r, settings);
    state = d.state;
    events.push(...d.events);
  }
  return events;
}

/**
 * Delivery as Kafka and producers can garble it: every result at least once, duplicates
 * anywhere later, and each result moved by at most the tolerance from its place in time.
 */
const garbled = (count: number) =>
  fc.tuple(
    fc.array(fc.integer({ min: 0, max: Math.floor(TOLERANCE_MS / STEP_MS) }), { minLength: count, maxLength: count }),
    fc.array(fc.tuple(fc.nat({ max: count - 1 }), fc.nat({ max: 4 })), { maxLength: count }),
  );

describe('monitor aggregate properties (fast-check)', () => {
  it('any duplication and reordering inside the tolerance gives the same incidents', () => {
    fc.assert(
      fc.property(
        fc.array(outcome, { minLength: 1, maxLength: 40 }).chain((outcomes) => fc.tuple(fc.constant(outcomes), garbled(outcomes.length))),
        ([outcomes, [delays, dups]]) => {
          const clean = results(outcomes);
          const expected = eventsOf(flushed(clean, outcomes.length));
          // Each result arrives at (its slot + a delay within the tolerance); duplicates later still.
          const arrivals = clean.map((r, i) => ({ r, at: i + delays[i]!, tie: 0 }));
          dups.forEach(([i, extra], n) => arrivals.push({ r: clean[i]!, at: i + delays[i]! + extra, tie: n + 1 }));
          arrivals.sort((a, b) => a.at - b.at || a.tie - b.tie);
          const actual = eventsOf(flushed(arrivals.map((a) => a.r), outcomes.length));
          expect(actual).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('never opens a second incident while one is open, and every resolve matches an open', () => {
    fc.assert(
      fc.property(fc.array(outcome, { minLength: 1, maxLength: 60 }), (outcomes) => {
        const events = eventsOf(flushed(results(outcomes), outcomes.length));
        let open: string | null = null;
        for (const e of events) {
          if (e.type === 'IncidentOpened') {
            expect(open).toBeNull();
            open = e.data.dedup_key;
          } else if (e.type === 'IncidentResolved') {
            expect(e.data.dedup_key).toBe(open);
            open = null;
          } else if (e.type === 'IncidentEscalated') {
            expect(e.data.dedup_key).toBe(open);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
