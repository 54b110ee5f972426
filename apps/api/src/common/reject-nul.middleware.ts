import type { NextFunction, Request, Response } from 'express';
import { isStorableText } from '@tocsin/contracts';
import { statusName } from './http-exception.filter';

/** Deeper JSON than any Tocsin body needs; past it, validators and Postgres' jsonb recurse too far. */
export const MAX_JSON_DEPTH = 32;

export type JsonProblem = { readonly kind: 'nul' | 'surrogate' | 'depth'; readonly where: string };

/**
 * Routes whose bodies carry text from another system (a status webhook, an external
 * prober's results): their fields are made storable or refused one by one where they are
 * read, so one odd character does not refuse a whole call. Only the depth is checked here.
 */
const OUTSIDE_TEXT_ROUTES = [/^\/v1\/hooks\/incoming\/[^/]*\/?$/i, /^\/v1\/probe-results\/?$/i];

/**
 * The first NUL character, lone UTF-16 surrogate (jsonb refuses its escape) or over-deep
 * nesting in a parsed JSON value, found without recursion. With `text: false` only the depth.
 */
export function findJsonProblem(value: unknown, { text = true }: { text?: boolean } = {}): JsonProblem | null {
  const stack: Array<{ value: unknown; path: string[] }> = [{ value, path: [] }];
  while (stack.length) {
    const { value: current, path } = stack.pop()!;
    const where = path.join('.') || '(value)';
    if (typeof current === 'string') {
      if (text && current.includes('\u0000')) return { kind: 'nul', where };
      if (text && !isStorableText(current)) return { kind: 'surrogate', where };
      continue;
    }
    if (typeof current !== 'object' || current === null) continue;
    if (path.length >= MAX_JSON_DEPTH) return { kind: 'depth', where };
    for (const [key, inner] of Object.entries(current)) {
      if (text && key.includes('\u0000')) return { kind: 'nul', where: [...path, JSON.stringify(key)].join('.') };
      if (text && !isStorableText(key)) return { kind: 'surrogate', where: [...path, JSON.stringify(key)].join('.') };
      stack.push({ value: inner, path: [...path, key] });
    }
  }
  return null;
}

function describe(problem: JsonProblem, what: string): string {
  switch (problem.kind) {
    case 'nul':
      return `${what} ${problem.where.slice(0, 200)} contains a NUL character (U+0000), which is not allowed`;
    case 'surrogate':
      return `${what} ${problem.where.slice(0, 200)} contains a lone UTF-16 surrogate (half of a character), which is not valid text`;
    case 'depth':
      return `${what} is nested deeper than ${MAX_JSON_DEPTH} levels (at ${problem.where.slice(0, 200)})`;
  }
}

/**
 * Postgres text and jsonb cannot hold U+0000, jsonb refuses lone surrogates, and very deep
 * JSON overflows validators and jsonb alike: refuse them up front with a 400 naming where,
 * instead of failing in a query (a 500, or a batch that fails for other tenants too).
 */
export function rejectNul(req: Request, res: Response, next: NextFunction): void {
  let message: string | null = null;
  let decodedPath = req.path;
  try {
    decodedPath = decodeURIComponent(req.path);
  } catch {
    // a malformed escape is left for the router to refuse
  }
  const query = findJsonProblem(req.query);
  const outsideText = req.method === 'POST' && OUTSIDE_TEXT_ROUTES.some((route) => route.test(req.path));
  const body = req.body === undefined ? null : findJsonProblem(req.body, { text: !outsideText });
  if (decodedPath.includes('\u0000')) message = 'the path contains a NUL character (U+0000), which is not allowed';
  else if (query) message = describe(query, 'query parameter');
  else if (body) message = describe(body, 'body field');
  if (!message) {
    next();
    return;
  }
  res.status(400).json({ statusCode: 400, error: statusName(400), message });
}
