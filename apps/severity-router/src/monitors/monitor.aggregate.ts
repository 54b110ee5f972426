import {
  MONITOR_EVENTS,
  type FailureLayer,
  type IncidentOpenedData,
  type IncidentResolvedData,
  type ProbeResult,
  type Severity,
} from '@tocsin/contracts';
import type { NewEvent } from '@tocsin/event-store';
import { dedupKey } from './dedup-key';
import { severityFor, type SeverityPolicy } from './severity-policy';

export interface MonitorSettings {
  readonly tenantId: string;
  readonly monitorId: string;
  readonly slug: string;
  readonly url: string;
  readonly confirmAfter: number;
  readonly recoverAfter: number;
  readonly severityPolicy?: SeverityPolicy;
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
  /** A receiver reported `maintenance` and no other status since: failures open nothing (DESIGN §6). */
  readonly receiverMaintenance?: boolean;
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
};

type MonitorEvent =
  | NewEvent<IncidentOpenedData> & { type: 'IncidentOpened' }
  | NewEvent<IncidentResolvedData> & { type: 'IncidentResolved' };

export interface EventLike {
  readonly type: string;
  readonly data: object;
}

/** The one place incident state changes; rebuilds from history run the same code. */
export function applyEvent(state: MonitorState, event: EventLike): MonitorState {
  switch (event.type) {
    case MONITOR_EVENTS.IncidentOpened.type: {
      const d = event.data as unknown as IncidentOpenedData;
      return {
        ...state,
        version: state.version + 1,
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
    case MONITOR_EVENTS.IncidentResolved.type:
      return { ...state, version: state.version + 1, open: null };
    default:
      return { ...state, version: state.version + 1 };
  }
}

export function rebuild(events: readonly EventLike[]): MonitorState {
  return events.reduce(applyEvent, INITIAL_STATE);
}

export interface Decision {
  readonly state: MonitorState;
  readonly events: readonly MonitorEvent[];
}

function secondsBetween(from: string, to: string): number {
  return Math.max(0, Math.round((Date.parse(to) - Date.parse(from)) / 1000));
}

/**
 * Folds one probe result into the monitor: counts streaks, and opens an incident after
 * `confirmAfter` consecutive failures or resolves it after `recoverAfter` good probes.
 * A result older than the last one seen is ignored, so a late record cannot flap state.
 */
export function recordProbe(state: MonitorState, probe: ProbeResult, settings: MonitorSettings): Decision {
  if (state.lastObservedAt && Date.parse(probe.observed_at) < Date.parse(state.lastObservedAt)) {
    return { state, events: [] };
  }
  const maintenance = probe.status !== undefined ? probe.status === 'maintenance' : state.receiverMaintenance === true;
  if (maintenance && !probe.ok) {
    // Suppressed: neither a failure towards an incident nor a success that would resolve one.
    return { state: { ...state, receiverMaintenance: true, lastObservedAt: probe.observed_at }, events: [] };
  }
  const failed = !probe.ok && probe.status !== 'maintenance' && probe.status !== 'operational';
  const layer: FailureLayer = probe.failure_layer ?? 'http';
  const base: MonitorState = { ...state, receiverMaintenance: maintenance };
  const tracked: MonitorState = failed
    ? {
        ...base,
        consecutiveFailures: state.consecutiveFailures + 1,
        consecutiveSuccesses: 0,
        streakStartedAt: state.consecutiveFailures === 0 ? probe.observed_at : state.streakStartedAt,
        lastLayer: layer,
        lastError: probe.error ?? null,
        lastObservedAt: probe.observed_at,
        lastOk: false,
      }
    : {
        ...base,
        consecutiveFailures: 0,
        consecutiveSuccesses: state.consecutiveSuccesses + 1,
        streakStartedAt: null,
        lastObservedAt: probe.observed_at,
        lastOk: true,
      };

  if (failed && tracked.open) {
    const open = { ...tracked.open, probeCount: tracked.open.probeCount + 1, lastError: tracked.lastError };
    return { state: { ...tracked, open }, events: [] };
  }

  if (failed && !tracked.open && tracked.consecutiveFailures >= settings.confirmAfter) {
    const seq = tracked.incidentSeq + 1;
    const data: IncidentOpenedData = {
      incident_seq: seq,
      dedup_key: dedupKey(settings.tenantId, settings.monitorId, seq),
      failure_layer: layer,
      severity: severityFor(layer, settings.severityPolicy),
      started_at: tracked.streakStartedAt ?? probe.observed_at,
      probe_count: tracked.consecutiveFailures,
      last_error: tracked.lastError,
      server_slug: settings.slug,
      server_url: settings.url,
    };
    const event = { ...MONITOR_EVENTS.IncidentOpened, data } as const;
    return { state: applyEvent(tracked, event), events: [event] };
  }

  if (!failed && tracked.open && tracked.consecutiveSuccesses >= settings.recoverAfter) {
    const open = tracked.open;
    const data: IncidentResolvedData = {
      incident_seq: open.seq,
      dedup_key: open.dedupKey,
      failure_layer: open.failureLayer,
      severity: open.severity,
      started_at: open.startedAt,
      resolved_at: probe.observed_at,
      duration_seconds: secondsBetween(open.startedAt, probe.observed_at),
      probe_count: open.probeCount,
      last_error: open.lastError,
      server_slug: settings.slug,
      server_url: settings.url,
    };
    const event = { ...MONITOR_EVENTS.IncidentResolved, data } as const;
    return { state: applyEvent(tracked, event), events: [event] };
  }

  return { state: tracked, events: [] };
}
