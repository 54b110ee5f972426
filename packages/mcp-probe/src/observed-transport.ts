import type { Transport, TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  isJSONRPCErrorResponse,
  isJSONRPCRequest,
  isJSONRPCResultResponse,
  type JSONRPCErrorResponse,
  type JSONRPCMessage,
  type JSONRPCResultResponse,
  type MessageExtraInfo,
  type RequestId,
} from '@modelcontextprotocol/sdk/types.js';
import { boundMessage, errorMessage } from './errors';
import { stepForMethod } from './protocol-steps';
import type { StepRecorder, StepRecord } from './step-recorder';
import type { McpProbeStepName } from './types';

export type InitializeResponse = JSONRPCResultResponse | JSONRPCErrorResponse;

export interface ObservedTransportOptions {
  /** Step that start() performs, e.g. the legacy transport's SSE connect. */
  startStep?: McpProbeStepName;
  /** Runs once before the inner transport closes, e.g. to DELETE the session. */
  beforeClose?: () => Promise<void>;
}


/**
 * Wraps an SDK client transport to time each protocol step and catch the JSON-RPC reply
 * (error code, initialize result) as it arrives, whichever HTTP transport carries it.
 */
export class ObservedTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: <T extends JSONRPCMessage>(message: T, extra?: MessageExtraInfo) => void;
  initializeResponse: InitializeResponse | undefined;

  private readonly pending = new Map<RequestId, StepRecord>();
  private closing: Promise<void> | undefined;

  constructor(
    private readonly inner: Transport,
    private readonly recorder: StepRecorder,
    private readonly options: ObservedTransportOptions = {},
  ) {
    inner.onmessage = (message, extra) => {
      this.observe(message);
      this.onmessage?.(message, extra);
    };
    inner.onerror = (error) => this.onerror?.(error);
    inner.onclose = () => this.onclose?.();
  }

  get sessionId(): string | undefined {
    return this.inner.sessionId;
  }

  setProtocolVersion(version: string): void {
    this.inner.setProtocolVersion?.(version);
  }

  async start(): Promise<void> {
    if (this.options.startStep === undefined) return this.inner.start();
    const record = this.recorder.begin(this.options.startStep);
    try {
      await this.inner.start();
      this.recorder.end(record);
    } catch (err) {
      this.recorder.end(record, { error: record.error ?? boundMessage(errorMessage(err)) });
      throw err;
    }
  }

  async send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    const step = 'method' in message ? stepForMethod(message.method) : undefined;
    if (step === undefined) return this.inner.send(message, options);
    const record = this.recorder.begin(step);
    const id = isJSONRPCRequest(message) ? message.id : undefined;
    if (id !== undefined) this.pending.set(id, record);
    try {
      await this.inner.send(message, options);
      if (id === undefined) this.recorder.end(record);
    } catch (err) {
      if (id !== undefined) this.pending.delete(id);
      this.recorder.end(record, { error: record.error ?? boundMessage(errorMessage(err)) });
      throw err;
    }
  }

  /** Idempotent: the SDK closes on a failed initialize, and the probe closes again to be sure. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    try {
      await this.options.beforeClose?.();
    } finally {
      await this.inner.close();
    }
  }

  private observe(message: JSONRPCMessage): void {
    if (!isJSONRPCResultResponse(message) && !isJSONRPCErrorResponse(message)) return;
    const record = message.id === undefined ? undefined : this.pending.get(message.id);
    if (!record || message.id === undefined) return;
    this.pending.delete(message.id);
    if (record.step === 'initialize') this.initializeResponse = message;
    if (isJSONRPCErrorResponse(message)) {
      this.recorder.end(record, {
        jsonrpc_code: message.error.code,
        error: boundMessage(`JSON-RPC ${message.error.code}: ${message.error.message}`),
      });
    } else {
      this.recorder.end(record);
    }
  }
}
