import { z } from 'zod';
import { describeIssues, FAILURE_LAYERS, isStorableText, parseWith, SERVICE_STATUSES, storableText } from '@tocsin/contracts';

export const MAX_PUSHED_RESULTS = 1000;

/**
 * Identifiers are refused when Postgres could not store them as sent (a NUL, a lone
 * surrogate): changing them would name something else. Free text (`error`) is made
 * storable instead, since a prober's message cut inside an emoji is still worth keeping.
 */
const identifier = (max: number) =>
  z
    .string()
    .max(max)
    .refine(isStorableText, { message: 'must be text without NUL characters or lone UTF-16 surrogates' });

/** One pushed result: the ProbeResult minus what the API fills in (tenant, source, defaults). */
export const pushedResultSchema = z
  .strictObject({
    monitor_id: identifier(100).pipe(z.string().min(1)),
    ok: z.boolean(),
    observed_at: z.iso.datetime({ offset: true }).optional(),
    event_id: z.uuid().optional(),
    failure_layer: z.enum(FAILURE_LAYERS).optional(),
    error: z
      .string()
      .max(2000)
      .transform((e) => storableText(e, 2000))
      .optional(),
    latency_ms: z.number().nonnegative().optional(),
    http_status: z.number().int().min(100).max(599).optional(),
    tools_hash: identifier(200).optional(),
    status: z.enum(SERVICE_STATUSES).optional(),
  })
  .refine((r) => r.ok || r.failure_layer !== undefined || r.status !== undefined, {
    message: 'a failed result needs failure_layer',
    path: ['failure_layer'],
  });
export type PushedResult = z.output<typeof pushedResultSchema>;

/**
 * The envelope only: items are checked one by one so good ones are accepted beside bad
 * ones, and the count is checked by the controller so that too many answers 413, not 400.
 */
export const pushBodySchema = z.strictObject({ results: z.array(z.unknown()).min(1) });
export type PushBody = z.output<typeof pushBodySchema>;

/** What /docs shows: the real item shape and limit. */
export const pushSchemaForDocs = z.strictObject({ results: z.array(pushedResultSchema).min(1).max(MAX_PUSHED_RESULTS) });

export interface SortedResults {
  readonly valid: Array<{ index: number; result: PushedResult }>;
  readonly rejected: Array<{ index: number; reason: string }>;
}

export interface PushClock {
  readonly now: Date;
  /** TOCSIN_MAX_CLOCK_SKEW_SECONDS: how far ahead of this clock a result may be stamped. */
  readonly maxClockSkewSeconds: number;
}

/**
 * A result stamped ahead of the clock would make every real result after it look older
 * than the monitor's last one, and be dropped: one push of 2099 would silence a monitor.
 */
function futureReason(result: PushedResult, clock: PushClock): string | null {
  if (result.observed_at === undefined) return null;
  const ahead = (Date.parse(result.observed_at) - clock.now.getTime()) / 1000;
  return ahead > clock.maxClockSkewSeconds
    ? `observed_at: ${result.observed_at} is ${Math.round(ahead)} s ahead of the server's clock; at most ${clock.maxClockSkewSeconds} s is allowed`
    : null;
}

export function sortPushedResults(items: readonly unknown[], clock: PushClock): SortedResults {
  const valid: SortedResults['valid'] = [];
  const rejected: SortedResults['rejected'] = [];
  items.forEach((item, index) => {
    const parsed = parseWith(pushedResultSchema, item);
    if (!parsed.ok) {
      rejected.push({ index, reason: describeIssues(parsed.issues) });
      return;
    }
    const future = futureReason(parsed.value, clock);
    if (future !== null) rejected.push({ index, reason: future });
    else valid.push({ index, result: parsed.value });
  });
  return { valid, rejected };
}
