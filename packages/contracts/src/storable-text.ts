/**
 * Text from outside (probe errors, tool names, reply snippets, pushed and produced fields)
 * made storable before it reaches Postgres: text columns refuse U+0000, and jsonb refuses
 * both `\u0000` and lone UTF-16 surrogates (JSON.stringify writes them as `\udXXX` escapes).
 * One unstorable string in a batch would otherwise fail every tenant's rows with it.
 */

/** NUL, a high surrogate without its low half, or a low one without its high half. */
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
/** Cheap first test: text without NUL or any surrogate needs no work. */
const SUSPECT = /[\u0000\uD800-\uDFFF]/;

export const REPLACEMENT_CHARACTER = '\uFFFD';

/** True when Postgres text and jsonb both store the string exactly as it is. */
export function isStorableText(value: string): boolean {
  if (!SUSPECT.test(value)) return true;
  UNSTORABLE.lastIndex = 0;
  return !UNSTORABLE.test(value);
}

/**
 * Cuts to at most `maxUnits` UTF-16 units without splitting a surrogate pair (the cut
 * backs off one unit instead), so a cut never makes a lone surrogate.
 */
export function cutText(value: string, maxUnits: number): string {
  if (value.length <= maxUnits) return value;
  const end = Math.max(0, maxUnits);
  const last = value.charCodeAt(end - 1);
  return value.slice(0, last >= 0xd800 && last <= 0xdbff ? end - 1 : end);
}

/**
 * NUL removed, lone surrogates replaced by U+FFFD, and (with `maxUnits`) cut on a code
 * point boundary. Valid text comes back unchanged (the same string).
 */
export function storableText(value: string, maxUnits?: number): string {
  const clean = SUSPECT.test(value)
    ? value.replace(UNSTORABLE, (match) => (match === '\u0000' ? '' : REPLACEMENT_CHARACTER))
    : value;
  return maxUnits === undefined ? clean : cutText(clean, maxUnits);
}

/**
 * The first `maxBytes` bytes of UTF-8 as text, ending on a character boundary (a
 * multi-byte character cut in the middle is dropped, not shown as U+FFFD), and storable.
 */
export function storableUtf8(bytes: Uint8Array, maxBytes: number): string {
  let end = Math.min(bytes.length, maxBytes);
  if (end < bytes.length && end > 0) {
    // The lead byte of the last character kept, and how many bytes that character needs.
    let lead = end - 1;
    while (lead > 0 && end - lead < 4 && (bytes[lead]! & 0xc0) === 0x80) lead--;
    const first = bytes[lead]!;
    const width = first >= 0xf0 ? 4 : first >= 0xe0 ? 3 : first >= 0xc0 ? 2 : 1;
    if (lead + width > end) end = lead;
  }
  return storableText(Buffer.from(bytes.buffer, bytes.byteOffset, end).toString('utf8'));
}

export class TooDeepError extends Error {
  override readonly name = 'TooDeepError';
}

/** Deeper than any value Tocsin stores; the walk below refuses rather than recursing on. */
export const MAX_STORABLE_DEPTH = 64;

/**
 * A JSON-like value with every string and object key made storable. Returns the input
 * itself when nothing needed changing, so the common case allocates nothing. Throws
 * TooDeepError past MAX_STORABLE_DEPTH levels of nesting.
 */
export function storableJson<T>(value: T, depth = 0): T {
  if (typeof value === 'string') return storableText(value) as T;
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_STORABLE_DEPTH) throw new TooDeepError(`nested deeper than ${MAX_STORABLE_DEPTH} levels`);
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      const clean = storableJson(item, depth + 1);
      if (clean !== item) (copy ??= value.slice())[i] = clean;
    }
    return (copy ?? value) as T;
  }
  let copy: Record<string, unknown> | undefined;
  const source = value as Record<string, unknown>;
  const keys = Object.keys(source);
  for (const key of keys) {
    const item = source[key];
    const cleanKey = storableText(key);
    const clean = storableJson(item, depth + 1);
    if (clean !== item || cleanKey !== key) {
      copy ??= rebuildUntil(source, keys, key);
      defineOwn(copy, cleanKey, clean);
    } else if (copy) {
      defineOwn(copy, key, item);
    }
  }
  return (copy ?? value) as T;
}

/** A copy of the members before `stop`, in order; the caller adds the rest. */
function rebuildUntil(source: Record<string, unknown>, keys: readonly string[], stop: string): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  for (const key of keys) {
    if (key === stop) break;
    defineOwn(copy, key, source[key]);
  }
  return copy;
}

/** An own, enumerable member even for `__proto__`, as JSON.parse makes it. */
function defineOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * JSON text parsed with every string made storable. Text without a `\u` escape cannot
 * hold NUL or a lone surrogate (JSON.parse refuses raw control characters, and UTF-8
 * decoding never yields a lone surrogate), so it is parsed as it is.
 */
export function parseStorableJson(text: string): unknown {
  const value: unknown = JSON.parse(text);
  return text.includes('\\u') ? storableJson(value) : value;
}
