import { performance } from 'node:perf_hooks';
import type { McpProbeStep, McpProbeStepName } from './types';

export interface StepRecord {
  readonly step: McpProbeStepName;
  readonly startedAt: number;
  endedAt?: number;
  http_status?: number;
  jsonrpc_code?: number;
  content_type?: string;
  error?: string;
  /** A 401 whose `WWW-Authenticate` named the Bearer scheme; judged by isAuthGate, not reported per step. */
  bearer_challenge?: boolean;
}

type StepEvidence = Pick<StepRecord, 'http_status' | 'jsonrpc_code' | 'content_type' | 'error'>;

/**
 * Per-step evidence of one probe. The SDK transport (via ObservedTransport) opens and closes
 * steps; the recording fetch adds what HTTP said. Classification reads only this record.
 */
export class StepRecorder {
  private readonly records: StepRecord[] = [];
  private attemptStart = 0;

  /** A new transport attempt (the SSE fallback); "answered" is judged per attempt. */
  beginAttempt(): void {
    this.attemptStart = this.records.length;
  }

  begin(step: McpProbeStepName): StepRecord {
    const record: StepRecord = { step, startedAt: performance.now() };
    this.records.push(record);
    return record;
  }

  end(record: StepRecord, evidence: StepEvidence = {}): void {
    Object.assign(record, definedOnly(evidence));
    record.endedAt ??= performance.now();
  }

  /** The newest unfinished step with this name, for evidence that arrives out of band. */
  open(step: McpProbeStepName): StepRecord | undefined {
    return this.records.findLast((r) => r.step === step && r.endedAt === undefined);
  }

  /** The step the probe was in when it stopped: the newest unfinished one, else the newest. */
  current(): StepRecord | undefined {
    return this.records.findLast((r) => r.endedAt === undefined) ?? this.records.at(-1);
  }

  last(): StepRecord | undefined {
    return this.records.at(-1);
  }

  /** Whether any HTTP response arrived in the current attempt. */
  attemptAnswered(): boolean {
    return this.records.slice(this.attemptStart).some((r) => r.http_status !== undefined);
  }

  attemptSteps(): readonly StepRecord[] {
    return this.records.slice(this.attemptStart);
  }

  snapshot(): McpProbeStep[] {
    const now = performance.now();
    return this.records.map((r) => ({
      step: r.step,
      ...definedOnly({
        http_status: r.http_status,
        jsonrpc_code: r.jsonrpc_code,
        content_type: r.content_type,
        error: r.error,
      }),
      latency_ms: Math.round((r.endedAt ?? now) - r.startedAt),
    }));
  }
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
