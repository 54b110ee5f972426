import {
  MONITOR_EVENTS,
  type FailureLayer,
  type IncidentEscalatedData,
  type IncidentOpenedData,
  type IncidentResolvedData,
  type MaintenanceEndedData,
  type MaintenanceStartedData,
  type ProbeResult,
  type SchemaDriftDetectedData,
  type Severity,
  type SloBreachWarnedData,
} from '@tocsin/contracts';
import type { NewEvent } from '@tocsin/event-store';
import { dedupKey, signalDedupKey } from './dedup-key';
import { diffTools, toolContracts } from './schema-drift';
import { isShallower, isMoreSevere, severityFor, type SeverityPolicy } from './severity-policy';
import { DEFAULT_SLO, evaluateSlo, rollSloWindow, sloDowntimeOnResolve, type SloObjective, type SloState } from './slo';

export interface MaintenanceWindow {
  readonly id: string;
  readonly startsAt: string;
  readonly endsAt: string;
}

export interface MonitorSettings {
  readonly tenantId: string;
  readonly monitorId: string;
  readonly slug: string;
  readonly url: string;
  readonly confirmAfter: number;
  readonly recoverAfter: number;
  /** The monitor's own overrides: they win over the tenant's. */
  readonly severityPolicy?: SeverityPolicy;
  readonly tenantSeverityPolicy?: SeverityPolicy;
  readonly slo?: SloObjective;
  readonly maintenanceWindows?: readonly MaintenanceWindow[];
  /** Results up to this much older (by observed_at) than the newest seen are applied in their place. */
  readonly reorderToleranceMs?: number;
}

export interface OpenIncident {
  readonly seq: number;
  readonly dedupKey: string;
  readonly failureLayer: FailureLayer;
  readonly severity: Severity;
  readonly startedAt: string;
  readonly probeCount: number;
  readonly lastError: string | null;
}

export interface ActiveMaintenance {
  readonly seq: number;
  readonly startedAt: string;
  readonly reason: 'window' | 'receiver';
  readonly windowId: string | null;
  readonly windowEndsAt: string | null;
}

/** A result held back until the reorder tolerance has passed it. */
export interface PendingProbe {
  readonly id: string;
  readonly at: string;
  readonly failed: boolean;
  readonly layer: FailureLayer;
  readonly error: string | null;
  readonly status: ProbeResult['status'] | null;
  readonly toolsHash: string | null;
  readonly tools: Readonly<Record<string, string>> | null;
}

/** Everything the router remembers about one monitor; stored as its snapshot. */
export interface MonitorState {
  readonly version: number;
  readonly incidentSeq: number;
  readonly open: OpenIncident | null;
  /** Probe bookkeeping between incidents: not events, so it lives in the snapshot only. */
  readonly consecutiveFailures: number;
  readonly consecutiveSuccesses: number;
  readonly streakStartedAt: string | null;
  readonly lastLayer: FailureLayer | null;
  readonly lastError: string | null;
  readonly lastObservedAt: string | null;
  readonly lastOk: boolean | null;
  /**
   * The replay window kept in the snapshot instead of a row per result: ids of applied
   * results observed at `lastObservedAt`, plus the held-back ones. Anything older is late.
   */
  readonly frontierIds: readonly string[];
  readonly pending: readonly PendingProbe[];
  readonly maxObservedAt: string | null;
  readonly toolsHash: string | null;
  readonly tools: Readonly<Record<string, string>> | null;
  readonly maintenanceSeq: number;
  readonly maintenance: ActiveMaintenance | null;
  readonly receiverMaintenance: boolean;
  readonly slo: SloState | null;
}

export const INITIAL_STATE: MonitorState = {
  version: 0,
  incidentSeq: 0,
  open: null,
  consecutiveFailures: 0,
  consecutiveSuccesses: 0,
  streakStartedAt: null,
  lastLayer: null,
  lastError: null,
  lastObservedAt: null,
  lastOk: null,
  frontierIds: [],
  pending: [],
  maxObservedAt: null,
  toolsHash: null,
  tools: null,
  maintenanceSeq: 0,
  maintenance: null,
  receiverMaintenance: false,
  slo: null,
};

export type MonitorEvent =
  | (NewEvent<IncidentOpenedData> & { type: 'IncidentOpened' })
  | (NewEvent<IncidentResolvedData> & { type: 'IncidentResolved' })
  | (NewEvent<IncidentEscalatedData> & { type: 'IncidentEscalated' })
  | (NewEvent<SchemaDriftDetectedData> & { type: 'SchemaDriftDetected' })
  | (NewEvent<SloBreachWarnedData> & { type: 'SloBreachWarned' })
  | (NewEvent<MaintenanceStartedData> & { type: 'MaintenanceStarted' })
  | (NewEvent<MaintenanceEndedData> & { type: 'MaintenanceEnded' });

export interface EventLike {
  readonly type: string;
  readonly data: object;
}

/** The one place event-borne state changes; rebuilds from history run the same code. */
export function applyEvent(state: MonitorState, event: EventLike): MonitorState {
  const next = { ...state, version: state.version + 1 };
  switch (event.type) {
    case MONITOR_EVENTS.IncidentOpened.type: {
      const d = event.data as IncidentOpenedData;
      return {
        ...next,
        incidentSeq: d.incident_seq,
        open: {
          seq: d.incident_seq,
          dedupKey: d.dedup_key,
          failureLayer: d.failure_layer,
          severity: d.severity,
          startedAt: d.started_at,
          probeCount: d.probe_count,
          lastError: d.last_error,
        },
      };
    }
    case MONITOR_EVENTS.IncidentResolved.type: {
      const d = event.data as IncidentResolvedData;
      return { ...next, open: null, slo: sloDowntimeOnResolve(state.slo, d.started_at, d.resolved_at) };
    }
    case MONITOR_EVENTS.IncidentEscalated.type: {
      const d = event.data as IncidentEscalatedData;
      return state.open ? { ...next, open: { ...state.open, failureLayer: d.failure_layer, severity: d.severity } } : next;
    }
    case MONITOR_EVENTS.SchemaDriftDetected.type: {
      const d = event.data as SchemaDriftDetectedData;
      return { ...next, toolsHash: d.current_hash };
    }
    case MONITOR_EVENTS.SloBreachWarned.type: {
      const d = event.data as SloBreachWarnedData;
      return state.slo && state.slo.windowStart === d.window_start ? { ...next, slo: { ...state.slo, warned: d.level } } : next;
    }
    case MONITOR_EVENTS.MaintenanceStarted.type: {
      const d = event.data as MaintenanceStartedData;
      return {
        ...next,
        maintenanceSeq: d.maintenance_seq,
        maintenance: { seq: d.maintenance_seq, startedAt: d.started_at, reason: d.reason, windowId: d.window_id, windowEndsAt: null },
      };
    }
    case MONITOR_EVENTS.MaintenanceEnded.type:
      return { ...next, maintenance: null };
    default:
      return next;
  }
}

export function rebuild(events: readonly EventLike[]): MonitorState {
  return events.reduce(applyEvent, INITIAL_STATE);
}

export interface Decision {
  readonly state: MonitorState;
  readonly events: readonly MonitorEvent[];
  /** False when the result was a replay or arrived too late to apply. */
  readonly accepted: boolean;
}

const ms = (iso: string) => Date.parse(iso);

/** observed_at as `YYYY-MM-DDTHH:mm:ss.sssZ`: such strings order chronologically, so no parsing on the hot path. */
function normalIso(iso: string): string {
  return iso.length === 24 && iso.charCodeAt(23) === 90 /* Z */ && iso.charCodeAt(10) === 84 /* T */ ? iso : new Date(Date.parse(iso)).toISOString();
}

function secondsBetween(from: string, to: string): number {
  return Math.max(0, Math.round((ms(to) - ms(from)) / 1000));
}

function comparePending(a: PendingProbe, b: PendingProbe): number {
  if (a.at !== b.at) return a.at < b.at ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

const NO_EVENTS: readonly MonitorEvent[] = Object.freeze([]);

/** Held-back results are bounded: past this, the oldest are applied early. */
const MAX_PENDING = 256;
/** Ids kept for results sharing one observed_at: producers rarely repeat a timestamp. */
const MAX_FRONTIER_IDS = 64;

export function toPending(probe: ProbeResult): PendingProbe {
  const failed = probe.status !== undefined ? probe.status === 'down' : !probe.ok;
  return {
    id: probe.event_id,
    at: normalIso(probe.observed_at),
    failed,
    layer: probe.failure_layer ?? 'http',
    error: probe.error ?? null,
    status: probe.status ?? null,
    toolsHash: probe.tools_hash ?? null,
    tools: probe.tools ? toolContracts(probe.tools) : null,
  };
}

/**
 * Takes one probe result in: drops it if it is a replay (its id is in the snapshot's
 * window) or later than the reorder tolerance allows, otherwise holds it until the
 * tolerance has passed it and then folds the held results in observed order. Any
 * duplication or reordering within the tolerance therefore gives the same events.
 */
export function recordProbe(state: MonitorState, probe: ProbeResult, settings: MonitorSettings): Decision {
  const incoming = toPending(probe);
  if (state.frontierIds.includes(incoming.id) || (state.pending.length > 0 && state.pending.some((p) => p.id === incoming.id))) {
    return { state, events: [], accepted: false };
  }
  if (state.lastObservedAt && incoming.at < state.lastObservedAt) return { state, events: [], accepted: false };

  const maxObservedAt = state.maxObservedAt && state.maxObservedAt > incoming.at ? state.maxObservedAt : incoming.at;
  const tolerance = settings.reorderToleranceMs ?? 0;
  if (tolerance === 0 && state.pending.length === 0) {
    // The common case: nothing held back, so the result is applied at once.
    return applyProbe(state, incoming, settings);
  }
  const pending = [...state.pending, incoming].sort(comparePending);
  const watermark = new Date(ms(maxObservedAt) - tolerance).toISOString();
  let due = 0;
  while (due < pending.length && (pending[due]!.at <= watermark || pending.length - due > MAX_PENDING)) due++;

  let current: MonitorState = { ...state, pending: pending.slice(due), maxObservedAt };
  const events: MonitorEvent[] = [];
  for (const p of pending.slice(0, due)) {
    const decision = applyProbe(current, p, settings);
    current = decision.state;
    events.push(...decision.events);
  }
  return { state: current, events, accepted: true };
}

function activeWindow(settings: MonitorSettings, at: string): MaintenanceWindow | undefined {
  const windows = settings.maintenanceWindows;
  if (!windows || windows.length === 0) return undefined;
  const t = ms(at);
  return windows.find((w) => ms(w.startsAt) <= t && t < ms(w.endsAt));
}

/** Folds one result, in observed order: maintenance, schema drift, streaks and incidents, SLO. */
export function applyProbe(state: MonitorState, p: PendingProbe, settings: MonitorSettings): Decision {
  const events: MonitorEvent[] = [];
  const emit = (s: MonitorState, event: MonitorEvent): MonitorState => {
    events.push(event);
    return applyEvent(s, event);
  };
  const seen = {
    frontierIds: state.lastObservedAt === p.at ? [...state.frontierIds, p.id].slice(-MAX_FRONTIER_IDS) : [p.id],
    lastObservedAt: p.at,
    maxObservedAt: state.maxObservedAt && state.maxObservedAt > p.at ? state.maxObservedAt : p.at,
    slo: rollSloWindow(state.slo, p.at, settings.slo ?? DEFAULT_SLO),
  };
  // A healthy result on a healthy monitor with nothing else to decide (most results):
  // one copy of the state, no events.
  if (!p.failed && !state.open && !state.maintenance && !state.receiverMaintenance && p.status === null && !p.toolsHash && !settings.maintenanceWindows?.length) {
    const healthy: MonitorState = {
      ...state,
      ...seen,
      consecutiveFailures: 0,
      consecutiveSuccesses: state.consecutiveSuccesses + 1,
      streakStartedAt: null,
      lastOk: true,
    };
    return { state: healthy, events: NO_EVENTS, accepted: true };
  }
  let s: MonitorState = {
    ...state,
    ...seen,
    receiverMaintenance: p.status !== null ? p.status === 'maintenance' : state.receiverMaintenance,
  };

  // Maintenance: a receiver's `maintenance` status or a window set through the API.
  const window = activeWindow(settings, p.at);
  const inMaintenance = s.receiverMaintenance || window !== undefined;
  if (s.maintenance && !inMaintenance) {
    const endsAt = s.maintenance.windowEndsAt;
    const endedAt = endsAt && ms(endsAt) < ms(p.at) && !state.receiverMaintenance ? endsAt : p.at;
    s = emit(s, {
      ...MONITOR_EVENTS.MaintenanceEnded,
      data: { maintenance_seq: s.maintenance.seq, started_at: s.maintenance.startedAt, ended_at: endedAt },
    });
  }
  if (!s.maintenance && inMaintenance) {
    const byWindow = !s.receiverMaintenance && window !== undefined;
    const startedAt =
      byWindow && window && (!state.lastObservedAt || ms(window.startsAt) >= ms(state.lastObservedAt)) ? window.startsAt : p.at;
    s = emit(s, {
      ...MONITOR_EVENTS.MaintenanceStarted,
      data: { maintenance_seq: s.maintenanceSeq + 1, started_at: startedAt, reason: byWindow ? 'window' : 'receiver', window_id: byWindow ? window!.id : null },
    });
    s = { ...s, consecutiveFailures: 0, streakStartedAt: null };
  }
  if (s.maintenance) {
    s = { ...s, maintenance: { ...s.maintenance, windowEndsAt: window && !s.receiverMaintenance ? window.endsAt : null } };
  }

  // Schema drift: the first hash seen is the baseline.
  if (!p.failed && p.toolsHash) {
    if (s.toolsHash && s.toolsHash !== p.toolsHash) {
      const diff = diffTools(s.tools ?? {}, p.tools ?? {});
      s = emit(s, {
        ...MONITOR_EVENTS.SchemaDriftDetected,
        data: {
          dedup_key: signalDedupKey(settings.tenantId, settings.monitorId, `drift:${s.toolsHash}:${p.toolsHash}`),
          // DESIGN says P3 for every drift; a breaking one pages as P2 (docs/design-notes.md).
          severity: diff.impact === 'breaking' ? 'P2' : 'P3',
          previous_hash: s.toolsHash,
          current_hash: p.toolsHash,
          ...diff,
          detected_at: p.at,
          server_slug: settings.slug,
          server_url: settings.url,
        },
      });
    }
    s = { ...s, toolsHash: p.toolsHash, tools: p.tools ?? s.tools };
  }

  // A maintenance status says nothing about health: streaks and incidents stay as they are.
  if (p.status === 'maintenance') return { state: s, events, accepted: true };

  s = p.failed
    ? {
        ...s,
        consecutiveFailures: s.maintenance ? 0 : s.consecutiveFailures + 1,
        consecutiveSuccesses: 0,
        streakStartedAt: s.maintenance ? null : s.consecutiveFailures === 0 ? p.at : s.streakStartedAt,
        lastLayer: p.layer,
        lastError: p.error,
        lastOk: false,
      }
    : { ...s, consecutiveFailures: 0, consecutiveSuccesses: s.consecutiveSuccesses + 1, streakStartedAt: null, lastOk: true };

  const policies = [settings.severityPolicy, settings.tenantSeverityPolicy];
  if (p.failed && s.open) {
    const open = s.open;
    s = { ...s, open: { ...open, probeCount: open.probeCount + 1, lastError: p.error } };
    const severity = severityFor(p.layer, ...policies);
    if (isShallower(p.layer, open.failureLayer) && isMoreSevere(severity, open.severity)) {
      s = emit(s, {
        ...MONITOR_EVENTS.IncidentEscalated,
        data: {
          incident_seq: open.seq,
          dedup_key: open.dedupKey,
          failure_layer: p.layer,
          previous_failure_layer: open.failureLayer,
          severity,
          previous_severity: open.severity,
          started_at: open.startedAt,
          escalated_at: p.at,
          probe_count: open.probeCount + 1,
          last_error: p.error,
          server_slug: settings.slug,
          server_url: settings.url,
        },
      });
    }
  } else if (p.failed && !s.maintenance && s.consecutiveFailures >= settings.confirmAfter) {
    const seq = s.incidentSeq + 1;
    s = emit(s, {
      ...MONITOR_EVENTS.IncidentOpened,
      data: {
        incident_seq: seq,
        dedup_key: dedupKey(settings.tenantId, settings.monitorId, seq),
        failure_layer: p.layer,
        severity: severityFor(p.layer, ...policies),
        started_at: s.streakStartedAt ?? p.at,
        probe_count: s.consecutiveFailures,
        last_error: p.error,
        server_slug: settings.slug,
        server_url: settings.url,
      },
    });
  } else if (!p.failed && s.open && s.consecutiveSuccesses >= settings.recoverAfter) {
    const open = s.open;
    s = emit(s, {
      ...MONITOR_EVENTS.IncidentResolved,
      data: {
        incident_seq: open.seq,
        dedup_key: open.dedupKey,
        failure_layer: open.failureLayer,
        severity: open.severity,
        started_at: open.startedAt,
        resolved_at: p.at,
        duration_seconds: secondsBetween(open.startedAt, p.at),
        probe_count: open.probeCount,
        last_error: open.lastError,
        server_slug: settings.slug,
        server_url: settings.url,
      },
    });
  }

  const warning = evaluateSlo(s.slo, s.open?.startedAt ?? null, p.at, settings.slo ?? DEFAULT_SLO);
  if (warning) {
    s = emit(s, {
      ...MONITOR_EVENTS.SloBreachWarned,
      data: {
        ...warning,
        dedup_key: signalDedupKey(settings.tenantId, settings.monitorId, `slo:${warning.window_start}:${warning.level}`),
        server_slug: settings.slug,
        server_url: settings.url,
      },
    });
  }
  return { state: s, events, accepted: true };
}
