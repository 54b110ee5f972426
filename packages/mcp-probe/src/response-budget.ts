/** How much of a server's answers one probe attempt reads before it gives up. */
export const DEFAULT_MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

/** Past this many tools a list is not one a probe should hold or report. */
export const MAX_TOOLS = 1_000;

export class ResponseTooLargeError extends Error {
  override readonly name = 'ResponseTooLargeError';

  constructor(readonly maxBytes: number) {
    super(`response exceeded max_response_bytes (${maxBytes})`);
  }
}

/** A 3xx answer: never followed, so the monitor's headers go nowhere but its own URL. */
export class RedirectNotFollowedError extends Error {
  override readonly name = 'RedirectNotFollowedError';
}

/**
 * The bytes one attempt may read, across every reply it gets (initialize, each tools/list
 * page, a legacy SSE stream): a server cannot exhaust memory by paging either.
 */
export class ResponseBudget {
  private used = 0;

  constructor(readonly maxBytes: number) {}

  /** Counts `bytes` more read; the error once the total is past the budget. */
  take(bytes: number): ResponseTooLargeError | undefined {
    this.used += bytes;
    return this.used > this.maxBytes ? new ResponseTooLargeError(this.maxBytes) : undefined;
  }
}

/** Whether a failure is one the other generation would only repeat (it is about the reply, not the protocol). */
export function isFinalFailure(cause: unknown): boolean {
  const name = (cause as { name?: unknown } | null)?.name;
  return name === 'ResponseTooLargeError' || name === 'RedirectNotFollowedError';
}

/**
 * "redirect to <target> not followed", the target without userinfo, query or fragment
 * (they may carry credentials), or without a target when the Location is missing or bad.
 */
export function redirectMessage(status: number, location: string | null, requestUrl: string | URL): string {
  let target: URL | undefined;
  try {
    target = location ? new URL(location, requestUrl) : undefined;
  } catch {
    target = undefined;
  }
  if (!target) return `redirect (HTTP ${status}) not followed`;
  target.username = target.password = target.search = target.hash = '';
  return `redirect to ${target.href} not followed`;
}
