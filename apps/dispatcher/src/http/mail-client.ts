import { createTransport, type Transporter } from 'nodemailer';
import type SMTPConnection from 'nodemailer/lib/smtp-connection';
import type SMTPPool from 'nodemailer/lib/smtp-pool';
import { storableText } from '@tocsin/contracts';
import type { AlertEmail } from '../deliveries/alert-email';
import type { HttpResult } from '../deliveries/attempt-outcome';
import { beforeDeadline } from './deadline';
import type { WebhookResponse } from './webhook-client';

export interface MailRequest {
  readonly to: readonly string[];
  readonly email: AlertEmail;
  readonly timeoutMs: number;
}

const SNIPPET_CHARS = 1024;
/** Connections kept open to the mail server; alerts are few next to webhooks. */
const MAX_CONNECTIONS = 5;

/**
 * Sends alert emails through one SMTP server (TOCSIN_SMTP_URL), over a small pool of
 * kept-open connections, and classifies the server's answer as the delivery rules need
 * it: accepted (250) is delivered; a 4xx reply or no answer is a deferral, retried on the
 * endpoint's schedule; a 5xx reply is a refusal, dead-lettered.
 */
export class MailClient {
  private readonly transport: Transporter<SMTPPool.SentMessageInfo> | null;

  constructor(
    smtpUrl: string | undefined,
    private readonly from: string,
  ) {
    this.transport = smtpUrl
      ? createTransport({ url: smtpUrl, pool: true, maxConnections: MAX_CONNECTIONS, connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 } as SMTPPool.Options)
      : null;
  }

  async send({ to, email, timeoutMs }: MailRequest): Promise<WebhookResponse> {
    const started = performance.now();
    const answer = (result: HttpResult, snippet: string | null): WebhookResponse => ({
      result,
      durationMs: Math.round(performance.now() - started),
      snippet: snippet === null ? null : storableText(snippet, SNIPPET_CHARS),
    });
    if (!this.transport) return answer({ kind: 'error', errorClass: 'smtp_deferred', message: 'TOCSIN_SMTP_URL is not set: no mail server to send through' }, null);
    try {
      const sent = this.transport.sendMail({
        from: this.from,
        to: [...to],
        subject: email.subject,
        text: email.text,
        html: email.html,
        messageId: email.messageId,
        inReplyTo: email.thread,
        references: [email.thread],
        headers: email.headers,
      });
      // A message the server takes after the deadline is sent again by the retry: the
      // Message-ID, which is the delivery's, lets a reader's client drop the copy.
      const outcome = await beforeDeadline(sent, timeoutMs);
      if (outcome === 'timeout') return answer({ kind: 'error', errorClass: 'timeout', message: `the mail server did not take the message within ${timeoutMs} ms` }, null);
      const rejected = outcome.rejected.length > 0 ? ` (refused for ${outcome.rejected.map(String).join(', ')})` : '';
      return answer({ kind: 'response', status: replyCode(outcome.response) ?? 250 }, `${outcome.response}${rejected}`);
    } catch (err) {
      return answer(classifySmtpError(err as SMTPConnection.SMTPError), (err as SMTPConnection.SMTPError).response ?? null);
    }
  }

  close(): void {
    this.transport?.close();
  }
}

function replyCode(response: string | undefined): number | undefined {
  const code = Number(response?.slice(0, 3));
  return Number.isInteger(code) && code >= 200 && code < 300 ? code : undefined;
}

/** A refusal with a 5xx reply is for good; any other failure (4xx, no reply at all) may pass later. */
function classifySmtpError(err: SMTPConnection.SMTPError): HttpResult {
  const code = err.responseCode;
  const message = `${err.message}`.slice(0, 500);
  if (code !== undefined && code >= 500) return { kind: 'error', errorClass: 'smtp_rejected', message: `SMTP ${code}: ${message}` };
  if (code !== undefined) return { kind: 'error', errorClass: 'smtp_deferred', message: `SMTP ${code}: ${message}` };
  if (err.code === 'ETIMEDOUT') return { kind: 'error', errorClass: 'timeout', message };
  return { kind: 'error', errorClass: 'connection', message: `mail server: ${message}` };
}
