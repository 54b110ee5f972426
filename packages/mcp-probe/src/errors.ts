import { storableText } from '@tocsin/contracts';

export const MAX_ERROR_LENGTH = 300;

interface ErrorLike {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  cause?: unknown;
}

/**
 * One line, bounded and storable: these messages, often a server's own words, end up in
 * events, alerts and webhooks, and a NUL or half an emoji would fail every row stored with them.
 */
export function boundMessage(text: string, max = MAX_ERROR_LENGTH): string {
  const line = storableText(text).replace(/\s+/g, ' ').trim();
  return line.length <= max ? line : `${storableText(line, max - 1)}…`;
}

export function errorMessage(err: unknown): string {
  const like = asErrorLike(err);
  if (!like) return String(err);
  return nonEmpty(like.message) ?? nonEmpty(like.name) ?? String(err);
}

/** undici reports "fetch failed" and keeps the socket-level reason (ECONNREFUSED, TLS…) in `cause`. */
export function networkErrorMessage(err: unknown): string {
  const cause = asErrorLike(asErrorLike(err)?.cause);
  if (!cause) return errorMessage(err);
  const code = nonEmpty(cause.code);
  const message = nonEmpty(cause.message) ?? code ?? errorMessage(err);
  return code && !message.includes(code) ? `${code}: ${message}` : message;
}

/**
 * Duck-typed, not `instanceof Error`: Node's socket errors come from another realm than code
 * run in a vm context (jest), and a thrown value need not be an Error at all.
 */
function asErrorLike(value: unknown): ErrorLike | undefined {
  return typeof value === 'object' && value !== null ? (value as ErrorLike) : undefined;
}

function nonEmpty(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}
