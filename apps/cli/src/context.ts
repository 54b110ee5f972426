import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { createTocsinClient, loose, ok, TocsinApiError, type LooseClient, type TocsinClient } from '@tocsin/client';
import { print, type Shape } from './output';

export const EXIT = { ok: 0, refused: 1, usage: 2 } as const;

/** Bad usage found after parsing (an unreadable file, a --data that is not JSON): exit 2. */
export class UsageError extends Error {}

export interface GlobalOptions {
  readonly apiUrl?: string;
  readonly apiKey?: string;
  readonly json?: boolean;
}

/** What every command needs: the typed client, output mode, and a spinner for waits. */
export class Context {
  readonly api: TocsinClient;
  readonly admin: TocsinClient;
  readonly json: boolean;

  constructor(options: GlobalOptions, env: NodeJS.ProcessEnv = process.env) {
    const baseUrl = options.apiUrl ?? env.TOCSIN_URL ?? 'http://127.0.0.1:8080';
    const token = options.apiKey ?? env.TOCSIN_API_KEY;
    this.api = createTocsinClient({ baseUrl, ...(token ? { token } : {}) });
    const adminToken = env.TOCSIN_ADMIN_TOKEN;
    this.admin = createTocsinClient({ baseUrl, ...(adminToken ? { token: adminToken } : {}) });
    this.json = options.json === true;
  }

  static of(command: Command): Context {
    return new Context(command.optsWithGlobals<GlobalOptions>());
  }

  /** For routes added to the API after the client was generated. */
  get untyped(): LooseClient {
    return loose(this.api);
  }

  /** Runs a request under a spinner (on a terminal, and never with --json), answering its data. */
  async call<T>(label: string, request: () => Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
    return this.task(label, () => ok(request()));
  }

  /** Runs any work under a spinner (on a terminal, and never with --json). */
  async task<T>(label: string, work: () => Promise<T>): Promise<T> {
    const spinner = this.json || !process.stderr.isTTY ? undefined : (await import('ora')).default({ text: label, stream: process.stderr }).start();
    try {
      return await work();
    } finally {
      spinner?.stop();
    }
  }

  /** Polls until `done` says so (a delivery reaching a final status), under one spinner. */
  async waitFor<T>(label: string, poll: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 120_000): Promise<T> {
    const spinner = this.json || !process.stderr.isTTY ? undefined : (await import('ora')).default({ text: label, stream: process.stderr }).start();
    const deadline = Date.now() + timeoutMs;
    try {
      for (;;) {
        const value = await poll();
        if (done(value) || Date.now() > deadline) return value;
        await new Promise((r) => setTimeout(r, 500));
      }
    } finally {
      spinner?.stop();
    }
  }

  show(value: unknown, shape: Shape): void {
    print(value, shape, this.json);
  }
}

/** `--data '{"k":1}'`, `--data @file.json` or `--data -` (stdin): the body's fields beyond the flags. */
export function readData(data: string | undefined): Record<string, unknown> {
  if (data === undefined) return {};
  const text = data === '-' ? readFileSync(0, 'utf8') : data.startsWith('@') ? readFile(data.slice(1)) : data;
  const parsed = parseJson(text, '--data');
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new UsageError('--data must be a JSON object');
  return parsed as Record<string, unknown>;
}

export function readFile(path: string): string {
  try {
    return readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${path === '-' ? 'stdin' : path}: ${(err as Error).message}`);
  }
}

export function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${what} is not valid JSON: ${(err as Error).message}`);
  }
}

export function int(value: string, name: string): number {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new UsageError(`${name} must be an integer, got "${value}"`);
  return n;
}

/** `--header Name:value`, repeatable. */
export function headers(values: readonly string[] | undefined): Record<string, string> | undefined {
  if (!values?.length) return undefined;
  return Object.fromEntries(
    values.map((h) => {
      const at = h.indexOf(':');
      if (at <= 0) throw new UsageError(`--header must be Name:value, got "${h}"`);
      return [h.slice(0, at).trim(), h.slice(at + 1).trim()];
    }),
  );
}

export const collect = (value: string, previous: string[] = []) => [...previous, value];

/** Drops undefined values so a PATCH sends only what the caller set. */
export function defined(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
}

export function describeError(err: unknown): { message: string; code: number } {
  if (err instanceof UsageError) return { message: err.message, code: EXIT.usage };
  if (err instanceof TocsinApiError) {
    const details = Array.isArray(err.body.details)
      ? (err.body.details as Array<{ field?: string; message?: string }>)
          .filter((d) => !err.body.message.includes(`${d.field ?? ''}: ${d.message ?? ''}`))
          .map((d) => `\n  ${d.field ?? ''}: ${d.message ?? ''}`)
          .join('')
      : '';
    return { message: `${err.status} ${err.body.error}: ${err.body.message}${details}`, code: EXIT.refused };
  }
  const cause = (err as { cause?: { code?: string } }).cause;
  if (err instanceof TypeError && cause?.code) return { message: `cannot reach the API: ${cause.code}`, code: EXIT.refused };
  return { message: err instanceof Error ? err.message : String(err), code: EXIT.refused };
}
