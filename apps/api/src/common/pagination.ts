import { z } from 'zod';

export const listQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
  /** `desc` lists newest first (the console's "recent" views); cursors stay valid in the order that issued them. */
  order: z.enum(['asc', 'desc']).default('asc'),
});
export type ListQuery = z.output<typeof listQuerySchema>;

export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

export interface Cursor {
  readonly at: string;
  readonly id: string;
}

export function decodeCursor(cursor: string | undefined): Cursor | undefined {
  if (!cursor) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Cursor;
    if (typeof parsed.at === 'string' && typeof parsed.id === 'string' && !Number.isNaN(Date.parse(parsed.at))) return parsed;
  } catch {
    // fall through: a malformed cursor is reported below
  }
  throw new CursorError();
}

export class CursorError extends Error {
  override readonly message = 'cursor is not one this API issued';
}

/** Keyset pagination on (created_at, id) or another (time, id) pair: stable under inserts, no offsets. */
export function toPage<T, R>(
  rows: readonly T[],
  limit: number,
  present: (row: T) => R,
  keyOf: (row: T) => { at: Date | string; id: string },
): Page<R> {
  const visible = rows.slice(0, limit);
  const last = visible.at(-1);
  const key = last === undefined ? undefined : keyOf(last);
  const next =
    rows.length > limit && key
      ? Buffer.from(JSON.stringify({ at: new Date(key.at).toISOString(), id: key.id })).toString('base64url')
      : null;
  return { data: visible.map(present), next_cursor: next };
}

export const byCreation = (row: { created_at: Date; id: string }) => ({ at: row.created_at, id: row.id });
