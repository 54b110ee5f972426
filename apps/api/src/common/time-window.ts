import { z } from 'zod';

export const isoDate = z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time with a zone, e.g. 2026-01-01T00:00:00Z' });

const startOf = (b: { starts_at?: string | undefined }) => (b.starts_at ? Date.parse(b.starts_at) : Date.now());

/** The two fields of something that lasts from `starts_at` (default now) to `ends_at`. */
export const windowFields = { starts_at: isoDate.optional(), ends_at: isoDate };

type WindowBody = { starts_at?: string | undefined; ends_at: string };

/**
 * Checks a body with windowFields: it ends after it starts and in the future, and lasts at
 * most `maxDays` (`what` names it in the message). Maintenance windows and silences are such.
 */
export function timeWindow<T extends z.ZodType<WindowBody>>(schema: T, what: string, maxDays: number): T {
  return schema
    .refine((b) => Date.parse(b.ends_at) > startOf(b), { message: 'ends_at must be after starts_at (or after now when starts_at is left out)', path: ['ends_at'] })
    .refine((b) => Date.parse(b.ends_at) - startOf(b) <= maxDays * 86_400_000, { message: `${what} lasts at most ${maxDays} days`, path: ['ends_at'] })
    .refine((b) => Date.parse(b.ends_at) > Date.now(), { message: 'ends_at must be in the future', path: ['ends_at'] });
}

/** When a window body starts: its `starts_at`, or now. */
export const windowStart = (b: { starts_at?: string | undefined }) => new Date(startOf(b));
