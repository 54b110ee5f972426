import { TooDeepError } from '@tocsin/contracts';

/**
 * SQLSTATE classes that come from the data in a statement, not from the database being
 * away or busy: 22 (data exception: a `\u0000` jsonb refuses, an untranslatable
 * character, a value too long), 54 (program limit: a row or jsonb value too large) and 23
 * (a check or not-null constraint). A unique or exclusion violation (23505, 23P01) is left
 * out: two writers racing for one row raise it, and a retry is the cure.
 */
const DATA_CLASSES = new Set(['22', '54', '23']);
const RACE_CODES = new Set(['23505', '23P01']);

/**
 * True when a failed batch failed because of what one of its items holds, so splitting the
 * batch isolates it; false for what a retry cures (a lost connection, a serialisation
 * failure, a deadlock, a stream that moved), which must not cost any item its place.
 */
export function isDataError(err: unknown): boolean {
  if (err instanceof TooDeepError || err instanceof RangeError || err instanceof TypeError) return true;
  const code = sqlState(err);
  return code !== undefined && DATA_CLASSES.has(code.slice(0, 2)) && !RACE_CODES.has(code);
}

/** The SQLSTATE of a pg error, also when TypeORM wraps it as a QueryFailedError. */
export function sqlState(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const direct = (err as { code?: unknown }).code;
  if (typeof direct === 'string' && /^[0-9A-Z]{5}$/.test(direct)) return direct;
  const driver = (err as { driverError?: unknown }).driverError;
  return driver === undefined ? undefined : sqlState(driver);
}
