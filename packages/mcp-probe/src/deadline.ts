/** Abort reason when the probe's own budget runs out (as opposed to the caller cancelling). */
export class ProbeTimeoutError extends Error {
  override readonly name = 'TimeoutError';

  constructor(readonly timeoutMs: number) {
    super(`probe timed out after ${timeoutMs} ms`);
  }
}

/** One budget for the whole probe; its signal also carries the caller's cancellation. */
export class ProbeDeadline {
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private readonly detach: () => void;

  constructor(
    readonly timeoutMs: number,
    private readonly callerSignal?: AbortSignal,
  ) {
    this.timer = setTimeout(() => this.controller.abort(new ProbeTimeoutError(timeoutMs)), timeoutMs);
    const onCallerAbort = (): void => this.controller.abort(callerSignal?.reason);
    callerSignal?.addEventListener('abort', onCallerAbort, { once: true });
    this.detach = () => callerSignal?.removeEventListener('abort', onCallerAbort);
    if (callerSignal?.aborted) onCallerAbort();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get timedOut(): boolean {
    return this.controller.signal.reason instanceof ProbeTimeoutError;
  }

  get cancelledByCaller(): boolean {
    return this.controller.signal.aborted && !this.timedOut;
  }

  /** For the SDK's per-request timer: longer than the whole budget, so ours always fires first. */
  get sdkRequestTimeoutMs(): number {
    return this.timeoutMs + 1_000;
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.detach();
  }
}

/** Settles with `promise` or rejects with the signal's reason, whichever comes first. */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  promise.catch(() => undefined); // the loser of the race must not become an unhandled rejection
  if (signal.aborted) return Promise.reject(signal.reason as unknown);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as unknown);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}
