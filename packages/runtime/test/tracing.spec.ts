import type { Server } from 'node:http';
import pinoHttp from 'pino-http';
import { traceIdOf } from '@tocsin/contracts';
import { requestLogOptions } from '../src/logging';
import { requestSpans } from '../src/request-spans';
import { traceHeaders, tracesUrl, Tracing } from '../src/tracing';
import { jsonLines, listen } from './json-log';

const config = { OTEL_BSP_SCHEDULE_DELAY: 100 };

describe('trace context', () => {
  it('reads the trace id of a W3C traceparent, and nothing from a malformed or empty one', () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    expect(traceIdOf(`00-${traceId}-00f067aa0ba902b7-01`)).toBe(traceId);
    expect(traceIdOf(`00-${'0'.repeat(32)}-00f067aa0ba902b7-01`)).toBeUndefined();
    expect(traceIdOf(`00-${traceId}-${'0'.repeat(16)}-01`)).toBeUndefined();
    expect(traceIdOf(`00-${traceId.toUpperCase()}-00f067aa0ba902b7-01`)).toBeUndefined();
    expect(traceIdOf('not a traceparent')).toBeUndefined();
    expect(traceIdOf(null)).toBeUndefined();
  });

  it('exports to OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as given, else to /v1/traces under OTEL_EXPORTER_OTLP_ENDPOINT, else nowhere', () => {
    expect(tracesUrl({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' })).toBe('http://collector:4318/v1/traces');
    expect(
      tracesUrl({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://other:4318/traces' }),
    ).toBe('http://other:4318/traces');
    expect(tracesUrl({})).toBeUndefined();
    expect(new Tracing(config, 'test').exportUrl).toBeUndefined();
  });

  it('gives spans real ids when nothing exports them, and a record made inside a span names it as parent', async () => {
    const tracing = new Tracing(config, 'test');
    const carried = await tracing.inSpan('work', { parent: {} }, async (span) => {
      await new Promise((resolve) => setImmediate(resolve));
      return { headers: traceHeaders(), span: span.spanContext() };
    });
    expect(carried.headers.traceparent).toBe(`00-${carried.span.traceId}-${carried.span.spanId}-01`);
    const child = tracing.startSpan('child', { parent: carried.headers });
    expect(child.spanContext().traceId).toBe(carried.span.traceId);
    expect(traceHeaders(undefined)).toEqual({});
  });
});

describe('request spans and the logs', () => {
  const { lines, sink } = jsonLines();
  let server: Server;
  let base: string;
  let seen: Record<string, string> = {};

  beforeAll(async () => {
    const log = pinoHttp(requestLogOptions({ LOG_LEVEL: 'info' }, 'test'), sink);
    const spans = requestSpans(new Tracing(config, 'test'));
    ({ server, base } = await listen((req, res) => {
      spans(req, res, () => {
        log(req, res);
        seen = traceHeaders();
        req.log.info('handled');
        res.statusCode = 202;
        res.end('{}');
      });
    }));
  });

  afterAll(async () => {
    await new Promise((closed) => server.close(closed));
  });

  it("continues the caller's trace: the request log's id, and each line written while handling it, are its trace id", async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const before = lines.length;
    await (await fetch(`${base}/v1/probe-results`, { method: 'POST', headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` }, body: '{}' })).text();
    expect(traceIdOf(seen.traceparent)).toBe(traceId);
    expect(seen.traceparent).not.toContain('00f067aa0ba902b7');
    const written = lines.slice(before);
    const handled = written.find((l) => l.msg === 'handled');
    expect(handled).toMatchObject({ trace_id: traceId, span_id: seen.traceparent!.split('-')[2] });
    const completed = written.find((l) => l.msg === 'request completed');
    expect(completed).toMatchObject({ req: { id: traceId } });
  });

  it('starts a trace for a request without one', async () => {
    const before = lines.length;
    await (await fetch(`${base}/v1/monitors`)).text();
    const completed = lines.slice(before).find((l) => l.msg === 'request completed') as { req: { id: string } };
    expect(completed.req.id).toMatch(/^[0-9a-f]{32}$/);
    expect(traceIdOf(seen.traceparent)).toBe(completed.req.id);
  });
});
