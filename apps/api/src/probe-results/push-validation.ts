import { z } from 'zod';
import { describeIssues, FAILURE_LAYERS, parseWith, SERVICE_STATUSES } from '@tocsin/contracts';
import { plainText } from '../receivers/inbound-mapping';

export const MAX_PUSHED_RESULTS = 1000;

/** One pushed result: the ProbeResult minus what the API fills in (tenant, source, defaults). */
export const pushedResultSchema = z
  .strictObject({
    monitor_id: z.string().min(1).max(100),
    ok: z.boolean(),
    observed_at: z.iso.datetime({ offset: true }).optional(),
    event_id: z.uuid().optional(),
    failure_layer: z.enum(FAILURE_LAYERS).optional(),
    error: z
      .string()
      .max(2000)
      .transform((e) => plainText(e, 2000))
      .optional(),
    latency_ms: z.number().nonnegative().optional(),
    http_status: z.number().int().min(100).max(599).optional(),
    tools_hash: z.string().max(200).optional(),
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

export function sortPushedResults(items: readonly unknown[]): SortedResults {
  const valid: SortedResults['valid'] = [];
  const rejected: SortedResults['rejected'] = [];
  items.forEach((item, index) => {
    const parsed = parseWith(pushedResultSchema, item);
    if (parsed.ok) valid.push({ index, result: parsed.value });
    else rejected.push({ index, reason: describeIssues(parsed.issues) });
  });
  return { valid, rejected };
}
