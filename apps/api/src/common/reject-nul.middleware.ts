import type { NextFunction, Request, Response } from 'express';
import { statusName } from './http-exception.filter';

/** Deeper JSON than any Tocsin body needs; past it, validators and Postgres' jsonb recurse too far. */
export const MAX_JSON_DEPTH = 32;

export type JsonProblem = { readonly kind: 'nul'; readonly where: string } | { readonly kind: 'depth'; readonly where: string };

/** The first NUL character or over-deep nesting in a parsed JSON value, found without recursion. */
export function findJsonProblem(value: unknown): JsonProblem | null {
  const stack: Array<{ value: unknown; path: string[] }> = [{ value, path: [] }];
  while (stack.length) {
    const { value: current, path } = stack.pop()!;
    const where = path.join('.') || '(value)';
    if (typeof current === 'string') {
      if (current.includes('\u0000')) return { kind: 'nul', where };
      continue;
    }
    if (typeof current !== 'object' || current === null) continue;
    if (path.length >= MAX_JSON_DEPTH) return { kind: 'depth', where };
    for (const [key, inner] of Object.entries(current)) {
      if (key.includes('\u0000')) return { kind: 'nul', where: [...path, JSON.stringify(key)].join('.') };
      stack.push({ value: inner, path: [...path, key] });
    }
  }
  return null;
}

function describe(problem: JsonProblem, what: string): string {
  return problem.kind === 'nul'
    ? `${what} ${problem.where} contains a NUL character (U+0000), which is not allowed`
    : `${what} is nested deeper than ${MAX_JSON_DEPTH} levels (at ${problem.where.slice(0, 200)})`;
}

/**
 * Postgres text and jsonb cannot hold U+0000, and very deep JSON overflows validators and
 * jsonb alike: refuse both up front with a 400 naming where, instead of failing in a query.
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
  const body = req.body === undefined ? null : findJsonProblem(req.body);
  if (decodedPath.includes('\u0000')) message = 'the path contains a NUL character (U+0000), which is not allowed';
  else if (query) message = describe(query, 'query parameter');
  else if (body) message = describe(body, 'body field');
  if (!message) {
    next();
    return;
  }
  res.status(400).json({ statusCode: 400, error: statusName(400), message });
}
