import { randomUUID } from 'node:crypto';
import type { ProbeResult } from '@tocsin/contracts';
import { dedupKey } from '../src/monitors/dedup-key';
import {
  INITIAL_STATE,
  rebuild,
  recordProbe,
  type MonitorEvent,
  type MonitorSettings,
  type MonitorState,
} from '../src/monitors/monitor.aggregate';
import { monitorSettings } from './monitor-settings.fixture';

const settings = monitorSettings();

let clock = Date.parse('2026-01-10T00:00:00Z');
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
const fail = (layer: ProbeResult['failure_layer'] = 'transport') => probe(false, { failure_layer: layer });

function run(state: MonitorState, probes: ProbeResult[], s: MonitorSettings = settings) {
  const events: MonitorEvent[] = [];
  for (const p of probes) {
    const decision = recordProbe(state, p, s);
    state = decision.state;
    events.push(...decision.events);
  }
  return { state, events };
}

describe('monitor aggregate: incidents', () => {
  it('opens one incident on the third consecutive failure, with P1 for transport', () => {
    const first = fail();
    const { events, state } = run(INITIAL_STATE, [first, fail(), fail(), fail()]);
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

  it('flapping: fail, fail, ok, fail, fail, fail opens one incident with probe_count 3', () => {
    const flaps = [fail(), fail(), probe(true)];
    const streak = [fail(), fail(), fail()];
    const { events } = run(INITIAL_STATE, [...flaps, ...streak]);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'IncidentOpened', data: { probe_count: 3, started_at: streak[0]!.observed_at } });
  });

  it('does not open on interrupted streaks', () => {
    const { events } = run(INITIAL_STATE, [fail(), fail(), probe(true), fail(), fail()]);
    expect(events).toEqual([]);
  });

  it('resolves with the same dedup key, resolved_at and duration', () => {
    const opened = run(INITIAL_STATE, [fail(), fail(), fail()]);
    const good = probe(true);
    const { events, state } = run(opened.state, [good, probe(true)]);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: 'IncidentResolved',
      data: { dedup_key: opened.state.open?.dedupKey, resolved_at: good.observed_at, duration_seconds: 3 },
    });
    expect(state.open).toBeNull();
  });

  it('counts an OAuth-protected result (ok, auth: protected, HTTP 401, no tools) as an ordinary good probe', () => {
    const protectedUp = () => probe(true, { auth: 'protected', http_status: 401 });
    const opened = run(INITIAL_STATE, [fail(), fail(), fail()]);
    expect(run(opened.state, [protectedUp()]).events.map((e) => e.type)).toEqual(['IncidentResolved']);
    expect(run(INITIAL_STATE, [fail(), fail(), protectedUp(), fail(), fail()]).events).toEqual([]);
    expect(run(INITIAL_STATE, [protectedUp(), protectedUp()]).state).toMatchObject({ consecutiveSuccesses: 2, lastOk: true });
  });

  it('waits for recover_after good probes', () => {
    const s = { ...settings, recoverAfter: 2 };
    const opened = run(INITIAL_STATE, [fail(), fail(), fail()], s);
    expect(run(opened.state, [probe(true)], s).events).toEqual([]);
    expect(run(opened.state, [probe(true), probe(true)], s).events.map((e) => e.type)).toEqual(['IncidentResolved']);
  });

  it('gives the next incident a new key and uses P2 for initialize failures', () => {
    const first = run(INITIAL_STATE, [fail(), fail(), fail(), probe(true)]);
    const second = run(first.state, [fail('initialize'), fail('initialize'), fail('initialize')]);
    expect(second.events[0]).toMatchObject({ data: { incident_seq: 2, severity: 'P2', failure_layer: 'initialize' } });
    expect(second.events[0]).not.toMatchObject({ data: { dedup_key: (first.events[0]?.data as { dedup_key: string }).dedup_key } });
  });

  it('ignores a result older than the last one seen, and a replayed id', () => {
    const late = fail();
    const good = probe(true);
    const { state } = run(INITIAL_STATE, [good]);
    expect(recordProbe(state, late, settings)).toMatchObject({ state, accepted: false });
    expect(recordProbe(state, good, settings)).toMatchObject({ state, accepted: false });
  });

  it('rebuilds the same incident state from its events', () => {
    const { events, state } = run(INITIAL_STATE, [fail(), fail(), fail()]);
    const rebuilt = rebuild(events);
    expect(rebuilt.open?.dedupKey).toBe(state.open?.dedupKey);
    expect(rebuilt.version).toBe(state.version);
  });
});

describe('monitor aggregate: severity', () => {
  it('monitor overrides win over tenant overrides, which win over the defaults', () => {
    const streak = () => [fail('initialize'), fail('initialize'), fail('initialize')];
    expect(run(INITIAL_STATE, streak(), { ...settings, tenantSeverityPolicy: { initialize: 'P3' } }).events[0]?.data).toMatchObject({ severity: 'P3' });
    expect(
      run(INITIAL_STATE, streak(), { ...settings, tenantSeverityPolicy: { initialize: 'P3' }, severityPolicy: { initialize: 'P1' } }).events[0]?.data,
    ).toMatchObject({ severity: 'P1' });
  });

  it('escalates the open incident when a shallower layer fails: one incident, IncidentEscalated', () => {
    const opened = run(INITIAL_STATE, [fail('tools_list'), fail('tools_list'), fail('tools_list')]);
    expect(opened.events[0]?.data).toMatchObject({ severity: 'P2', failure_layer: 'tools_list' });
    const transport = fail('transport');
    const { events, state } = run(opened.state, [transport, fail('transport'), fail('http')]);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: 'IncidentEscalated',
      data: {
        dedup_key: opened.state.open?.dedupKey,
        severity: 'P1',
        previous_severity: 'P2',
        failure_layer: 'transport',
        previous_failure_layer: 'tools_list',
        escalated_at: transport.observed_at,
      },
    });
    expect(state.open).toMatchObject({ severity: 'P1', failureLayer: 'transport', seq: 1 });
    const resolved = run(state, [probe(true)]);
    expect(resolved.events[0]).toMatchObject({ type: 'IncidentResolved', data: { severity: 'P1', dedup_key: opened.state.open?.dedupKey } });
  });

  it('does not escalate when a deeper layer fails, or when the severity would not rise', () => {
    const opened = run(INITIAL_STATE, [fail('http'), fail('http'), fail('http')]);
    expect(run(opened.state, [fail('tools_list'), fail('transport')]).events).toEqual([]);
  });
});

describe('monitor aggregate: maintenance', () => {
  it('a receiver maintenance status suppresses new incidents until another status arrives', () => {
    const maint = probe(true, { status: 'maintenance', source: 'receiver' });
    const down = () => probe(false, { status: 'down', source: 'receiver', failure_layer: 'http' });
    const during = run(INITIAL_STATE, [maint, fail(), fail(), fail(), fail()]);
    expect(during.events.map((e) => e.type)).toEqual(['MaintenanceStarted']);
    expect(during.events[0]?.data).toMatchObject({ reason: 'receiver', started_at: maint.observed_at, maintenance_seq: 1 });
    const op = probe(true, { status: 'operational', source: 'receiver' });
    const after = run(during.state, [op, down(), down(), down()]);
    expect(after.events.map((e) => e.type)).toEqual(['MaintenanceEnded', 'IncidentOpened']);
    expect(after.events[0]?.data).toMatchObject({ ended_at: op.observed_at, started_at: maint.observed_at });
  });

  it('a window set through the API starts and ends maintenance at the window bounds', () => {
    const startsAt = new Date(clock + 1500).toISOString();
    const endsAt = new Date(clock + 5500).toISOString();
    const s = { ...settings, maintenanceWindows: [{ id: '00000000-0000-4000-8000-000000000001', startsAt, endsAt }] };
    const before = run(INITIAL_STATE, [probe(true)], s);
    const during = run(before.state, [fail(), fail(), fail(), fail(), fail()], s);
    expect(during.events.map((e) => e.type)).toEqual(['MaintenanceStarted', 'MaintenanceEnded']);
    expect(during.events[0]?.data).toMatchObject({ reason: 'window', started_at: startsAt });
    expect(during.events[1]?.data).toMatchObject({ ended_at: endsAt });
    // Failures inside the window did not count: the streak restarts after it.
    expect(during.state.consecutiveFailures).toBe(1);
  });

  it('an incident already open stays open through maintenance and resolves on recovery', () => {
    const opened = run(INITIAL_STATE, [fail(), fail(), fail()]);
    const { events } = run(opened.state, [probe(false, { status: 'maintenance', source: 'receiver' }), probe(true)]);
    expect(events.map((e) => e.type)).toEqual(['MaintenanceStarted', 'IncidentResolved']);
  });
});

describe('monitor aggregate: schema drift', () => {
  const tools = (...t: Array<[string, string]>) => t.map(([name, hash]) => ({ name, hash }));

  it('the first hash is a baseline; a change emits SchemaDriftDetected with added, removed and changed', () => {
    const base = run(INITIAL_STATE, [probe(true, { tools_hash: 'h1', tools: tools(['search', 'a'], ['fetch', 'b'], ['old', 'c']) })]);
    expect(base.events).toEqual([]);
    expect(run(base.state, [probe(true, { tools_hash: 'h1', tools: tools(['search', 'a'], ['fetch', 'b'], ['old', 'c']) })]).events).toEqual([]);
    const drift = run(base.state, [probe(true, { tools_hash: 'h2', tools: tools(['search', 'a'], ['fetch', 'B'], ['new', 'd']) })]);
    expect(drift.events).toHaveLength(1);
    expect(drift.events[0]).toMatchObject({
      type: 'SchemaDriftDetected',
      data: { severity: 'P2', impact: 'breaking', breaking: ['old: removed'], previous_hash: 'h1', current_hash: 'h2', added: ['new'], removed: ['old'], changed: ['fetch'] },
    });
    expect(rebuild([...drift.events]).toolsHash).toBe('h2');
  });

  it('keeps the baseline through OAuth-protected results, whose tools were not read', () => {
    const base = run(INITIAL_STATE, [probe(true, { tools_hash: 'h1', tools: tools(['search', 'a']) })]);
    const gated = run(base.state, [probe(true, { auth: 'protected', http_status: 401 })]);
    expect(gated.events).toEqual([]);
    expect(gated.state.toolsHash).toBe('h1');
    expect(run(gated.state, [probe(true, { tools_hash: 'h1', tools: tools(['search', 'a']) })]).events).toEqual([]);
  });

  it('hashes whole tool definitions when the prober sent no per-tool hash', () => {
    const base = run(INITIAL_STATE, [probe(true, { tools_hash: 'x1', tools: [{ name: 'search', description: 'find' }] })]);
    const drift = run(base.state, [probe(true, { tools_hash: 'x2', tools: [{ name: 'search', description: 'find things' }] })]);
    expect(drift.events[0]?.data).toMatchObject({ changed: ['search'], added: [], removed: [], severity: 'P3', impact: 'additive', breaking: [] });
  });
});

describe('monitor aggregate: SLO', () => {
  // A 1-day window at 99 %: 864 s of budget.
  const s: MonitorSettings = { ...settings, slo: { target: 0.99, windowDays: 1 }, confirmAfter: 1 };
  const at = (iso: string, ok: boolean) => probe(ok, { observed_at: iso });

  it('warns once per window when burning, again (P2) when the budget is gone, and anew next window', () => {
    const day = '2026-02-01';
    const seq = [
      at(`${day}T06:00:00.000Z`, true),
      at(`${day}T06:00:10.000Z`, false), // opens; 6 h in, 10 min down would project past the budget
      at(`${day}T06:10:10.000Z`, false),
      at(`${day}T06:10:20.000Z`, true),
      at(`${day}T07:00:00.000Z`, false),
      at(`${day}T07:10:00.000Z`, false),
      at(`${day}T07:10:10.000Z`, true),
    ];
    const { events, state } = run(INITIAL_STATE, seq, s);
    const warnings = events.filter((e) => e.type === 'SloBreachWarned');
    expect(warnings.map((w) => [w.data.level, w.data.severity])).toEqual([
      ['burning', 'P3'],
      ['exhausted', 'P2'],
    ]);
    expect(warnings[0]?.data).toMatchObject({ target: 0.99, window_days: 1, window_start: `${day}T00:00:00.000Z` });
    expect(warnings[1]?.data).toMatchObject({ budget_remaining: 0 });
    const more = run(state, [at(`${day}T09:00:00.000Z`, false), at(`${day}T09:30:00.000Z`, true)], s);
    expect(more.events.filter((e) => e.type === 'SloBreachWarned')).toEqual([]);
    const next = run(more.state, [at('2026-02-02T06:00:00.000Z', false), at('2026-02-02T06:20:00.000Z', true)], s);
    expect(next.events.filter((e) => e.type === 'SloBreachWarned').map((w) => [w.data.level, w.data.window_start])).toEqual([
      ['exhausted', '2026-02-02T00:00:00.000Z'],
    ]);
  });

  it('stays quiet while the downtime projects inside the budget', () => {
    const { events } = run(
      INITIAL_STATE,
      [at('2026-03-01T20:00:00.000Z', false), at('2026-03-01T20:00:30.000Z', true)],
      s,
    );
    expect(events.map((e) => e.type)).toEqual(['IncidentOpened', 'IncidentResolved']);
  });
});

describe('monitor aggregate: reordering', () => {
  it('holds results inside the tolerance and applies them in observed order', () => {
    const s = { ...settings, reorderToleranceMs: 5_000 };
    const [a, b, c, d] = [fail(), fail(), fail(), probe(true)];
    clock += 10_000;
    const flush = probe(true);
    const inOrder = run(INITIAL_STATE, [a!, b!, c!, d!, flush], s);
    const shuffled = run(INITIAL_STATE, [c!, a!, d!, b!, a!, flush], s);
    expect(shuffled.events).toEqual(inOrder.events);
    expect(inOrder.events.map((e) => e.type)).toEqual(['IncidentOpened', 'IncidentResolved']);
  });
});
