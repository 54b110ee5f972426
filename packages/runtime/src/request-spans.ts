import type { IncomingMessage, ServerResponse } from 'node:http';
import { redactUrl } from './logging';
import { SpanKind, SpanStatusCode, type Tracing } from './tracing';

type Request = IncomingMessage & { id?: unknown; route?: { path?: string }; baseUrl?: string };

const UNTRACED = /^\/(health|metrics)(\/|$|\?)/;

/**
 * A server span per API request, the caller's `traceparent` its parent: what the request
 * produces (pushed results, a test webhook) continues that trace, and the request log's
 * `req.id` is its trace id. Health checks and scrapes are left out.
 */
export function requestSpans(tracing: Tracing) {
  return (req: Request, res: ServerResponse, next: () => void): void => {
    if (UNTRACED.test(req.url ?? '')) {
      next();
      return;
    }
    const method = req.method ?? 'GET';
    const span = tracing.startSpan(method, {
      parent: req.headers,
      kind: SpanKind.SERVER,
      attributes: { 'http.request.method': method, 'url.path': redactUrl(req.url ?? '').split('?')[0]! },
    });
    req.id = span.spanContext().traceId;
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      if (req.route?.path) span.updateName(`${method} ${req.baseUrl ?? ''}${req.route.path}`);
      span.setAttribute('http.response.status_code', res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    };
    res.once('finish', end);
    res.once('close', end);
    tracing.withSpan(span, next);
  };
}
