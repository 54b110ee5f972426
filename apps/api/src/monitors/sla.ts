/** Half-open intervals in epoch ms. */
export interface Interval {
  readonly from: number;
  readonly to: number;
}

export function clip(i: Interval, range: Interval): Interval | null {
  const from = Math.max(i.from, range.from);
  const to = Math.min(i.to, range.to);
  return to > from ? { from, to } : null;
}

/** Sorted, non-overlapping union. */
export function union(intervals: readonly Interval[]): Interval[] {
  const sorted = [...intervals].sort((a, b) => a.from - b.from);
  const out: Interval[] = [];
  for (const i of sorted) {
    const last = out.at(-1);
    if (last && i.from <= last.to) out[out.length - 1] = { from: last.from, to: Math.max(last.to, i.to) };
    else out.push(i);
  }
  return out;
}

export const length = (intervals: readonly Interval[]) => intervals.reduce((sum, i) => sum + (i.to - i.from), 0);

/** `a` minus `b`, both unions. */
export function subtract(a: readonly Interval[], b: readonly Interval[]): Interval[] {
  const out: Interval[] = [];
  for (const i of a) {
    let pieces: Interval[] = [i];
    for (const cut of b) {
      pieces = pieces.flatMap((p) => {
        if (cut.to <= p.from || cut.from >= p.to) return [p];
        const rest: Interval[] = [];
        if (cut.from > p.from) rest.push({ from: p.from, to: cut.from });
        if (cut.to < p.to) rest.push({ from: cut.to, to: p.to });
        return rest;
      });
    }
    out.push(...pieces);
  }
  return out;
}

/** The part of `a` inside `b`, both unions. */
export const intersect = (a: readonly Interval[], b: readonly Interval[]): Interval[] => subtract(a, subtract(a, b));

export interface SlaInput {
  readonly range: Interval;
  readonly incidents: ReadonlyArray<Interval & { readonly key: string; readonly severity?: string }>;
  readonly maintenance: readonly Interval[];
  /** Silences matching the monitor; `severities` null matches every incident. */
  readonly silences?: ReadonlyArray<Interval & { readonly severities: readonly string[] | null }>;
}

export interface SlaFigures {
  readonly period_seconds: number;
  readonly availability: number;
  readonly downtime_seconds: number;
  readonly maintenance_seconds: number;
  /** Downtime a silence covered: it still counts as downtime, but paged nobody. */
  readonly silenced_seconds: number;
  readonly downtime_by_incident: ReadonlyMap<string, number>;
  readonly silenced_by_incident: ReadonlyMap<string, number>;
}

const seconds = (ms: number) => Math.round(ms / 1000);

/**
 * The SLA ledger over a range: maintenance time is excluded from the period, downtime is
 * incident time outside maintenance, availability = 1 − downtime / (period − maintenance).
 * Silenced time is the downtime a silence matching the incident's severity covered; it is
 * shown apart but stays downtime (a silence hides pages, not outages).
 */
export function slaFigures({ range, incidents, maintenance, silences = [] }: SlaInput): SlaFigures {
  const maint = union(maintenance.flatMap((m) => clip(m, range) ?? []));
  const byIncident = new Map<string, number>();
  const silencedByIncident = new Map<string, number>();
  const down: Interval[] = [];
  const silenced: Interval[] = [];
  for (const incident of incidents) {
    const clipped = clip(incident, range);
    const outside = clipped ? subtract([clipped], maint) : [];
    const covering = union(silences.filter((s) => s.severities === null || (incident.severity !== undefined && s.severities.includes(incident.severity))));
    const hushed = intersect(outside, covering);
    byIncident.set(incident.key, seconds(length(outside)));
    silencedByIncident.set(incident.key, seconds(length(hushed)));
    down.push(...outside);
    silenced.push(...hushed);
  }
  const downtimeMs = length(union(down));
  const maintenanceMs = length(maint);
  const countedMs = range.to - range.from - maintenanceMs;
  return {
    period_seconds: seconds(range.to - range.from),
    availability: countedMs > 0 ? Math.round((1 - downtimeMs / countedMs) * 1e6) / 1e6 : 1,
    downtime_seconds: seconds(downtimeMs),
    maintenance_seconds: seconds(maintenanceMs),
    silenced_seconds: seconds(length(union(silenced))),
    downtime_by_incident: byIncident,
    silenced_by_incident: silencedByIncident,
  };
}
