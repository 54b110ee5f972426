import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer, type SMTPServerAddress } from 'smtp-server';

export interface CaughtMail {
  readonly from: string;
  readonly to: readonly string[];
  readonly parsed: ParsedMail;
}

/** An SMTP reply the catcher gives to the next messages instead of taking them. */
export interface SmtpRefusal {
  readonly code: number;
  readonly message: string;
}

/**
 * A real SMTP server on loopback (the `smtp-server` package) that keeps every message it
 * takes, parsed (`mailparser`), so a test can read the subject, text, HTML and headers as a
 * mail reader would. `refuse` makes it answer the next N messages' DATA with a reply code,
 * e.g. 451 (try later) or 550 (refused for good). `url` is what TOCSIN_SMTP_URL takes.
 */
export class SmtpCatcher {
  readonly messages: CaughtMail[] = [];
  private refusals: SmtpRefusal[] = [];

  private constructor(
    private readonly server: SMTPServer,
    readonly url: string,
  ) {}

  static async start(): Promise<SmtpCatcher> {
    const holder: { catcher?: SmtpCatcher } = {};
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData(stream, session, callback) {
        const catcher = holder.catcher!;
        const refusal = catcher.refusals.shift();
        simpleParser(stream)
          .then((parsed) => {
            if (refusal) return callback(Object.assign(new Error(refusal.message), { responseCode: refusal.code }));
            catcher.messages.push({
              from: addressOf(session.envelope.mailFrom),
              to: session.envelope.rcptTo.map(addressOf),
              parsed,
            });
            return callback();
          })
          .catch((err: Error) => callback(err));
      },
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.server.address() as AddressInfo;
    holder.catcher = new SmtpCatcher(server, `smtp://127.0.0.1:${port}`);
    return holder.catcher;
  }

  /** The next `times` messages get this reply instead of 250. */
  refuse(code: number, message: string, times = 1): void {
    this.refusals.push(...Array.from({ length: times }, () => ({ code, message })));
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function addressOf(address: SMTPServerAddress | false): string {
  return address ? address.address : '';
}
