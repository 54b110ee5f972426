import type { DynamicModule } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import type { Options } from 'pino-http';
import type { TocsinConfig } from '@tocsin/config';
import { activeTraceIds } from './tracing';

const REDACTED = '[redacted]';

/**
 * A receiver's URL token is that URL's only credential: whoever reads it in a log can post
 * statuses for the receiver's tenant. Express matches routes case-insensitively, so the
 * path is matched the same way, wherever it is mounted.
 */
const RECEIVER_TOKEN = /(\/hooks\/incoming\/)[^/?#]*/gi;
/** Query parameters whose value may be a credential, whatever route they were sent to. */
const CREDENTIAL_PARAM = /(token|key|secret|sig|pass|auth|credential|session|code)/i;

/** The request URL as the request log writes it: receiver tokens and credential-like query values replaced. */
export function redactUrl(url: string): string {
  const queryAt = url.indexOf('?');
  const path = (queryAt < 0 ? url : url.slice(0, queryAt)).replace(RECEIVER_TOKEN, `$1${REDACTED}`);
  if (queryAt < 0) return path;
  const query = url
    .slice(queryAt + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = eq < 0 ? pair : pair.slice(0, eq);
      let decoded = name;
      try {
        decoded = decodeURIComponent(name);
      } catch {
        // A malformed escape is matched as it was sent.
      }
      return eq >= 0 && CREDENTIAL_PARAM.test(decoded) ? `${name}=${REDACTED}` : pair;
    })
    .join('&');
  return `${path}?${query}`;
}

/** The pino-http options of every app's request log; exported so the log itself can be tested. */
export function requestLogOptions(config: Pick<TocsinConfig, 'LOG_LEVEL'>, service: string): Options {
  return {
    level: config.LOG_LEVEL,
    base: { service },
    // A line written inside a span (a probe, an incident transition, an attempt) names its trace.
    mixin: activeTraceIds,
    autoLogging: { ignore: (req) => /^\/(health|metrics)/.test(req.url ?? '') },
    redact: ['req.headers.authorization', 'req.headers["x-webhook-signature"]'],
    // `id` is the request's trace id (request-spans.ts), so a request's log lines and its trace meet.
    serializers: { req: (req: { id?: unknown; method: string; url: string }) => ({ id: req.id, method: req.method, url: redactUrl(req.url) }) },
  };
}

/** JSON lines on stdout; request logs skip health and metrics scrapes and never carry a credential. */
export function loggingModule(config: TocsinConfig, service: string): DynamicModule {
  return LoggerModule.forRoot({ pinoHttp: requestLogOptions(config, service) });
}
