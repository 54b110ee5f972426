import { Command } from '@nestjs/cqrs';
import type { ReceiverCallResult } from '@tocsin/database';

export interface IncomingCall {
  readonly token: string;
  /** The exact bytes received; undefined when the body was not JSON. */
  readonly rawBody: Buffer | undefined;
  readonly body: unknown;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly sourceIp: string | null;
}

/** What the sender is told: 202 with the result, or a 4xx/5xx naming the problem. */
export type IncomingAnswer =
  | {
      readonly status: 202;
      readonly body: {
        readonly result: Extract<ReceiverCallResult, 'processed' | 'ignored'>;
        readonly raw_status: string;
        readonly mapped_status: string | null;
        readonly monitor_id: string | null;
        readonly event_id: string | null;
      };
    }
  | { readonly status: 400 | 401 | 404 | 415 | 503; readonly message: string; readonly errorClass?: 'secret_unreadable' };

export class ReceiveStatusWebhookCommand extends Command<IncomingAnswer> {
  constructor(readonly call: IncomingCall) {
    super();
  }
}
