import { Global, Injectable, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import {
  context,
  isSpanContextValid,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Span,
  type TextMapGetter,
  type TextMapSetter,
  type Tracer,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, RandomIdGenerator, type IdGenerator } from '@opentelemetry/sdk-trace-base';
import type { TocsinConfig } from '@tocsin/config';

export { SpanKind, SpanStatusCode, type Span };

/** W3C trace context as it travels: Kafka record headers, HTTP request headers, a stored column. */
export type TraceCarrier = Readonly<Record<string, string | string[] | undefined>>;

const propagator = new W3CTraceContextPropagator();
const getter: TextMapGetter<TraceCarrier> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => carrier[key],
};
const setter: TextMapSetter<Record<string, string>> = {
  set: (carrier, key, value) => {
    carrier[key] = value;
  },
};

let contextManagerSet = false;
/** One context manager per process (several apps share one in tests); spans follow async calls. */
function ensureContextManager(): void {
  if (contextManagerSet) return;
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  contextManagerSet = true;
}

/** Where spans go: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as given, else OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces. */
export function tracesUrl(config: Pick<TocsinConfig, 'OTEL_EXPORTER_OTLP_ENDPOINT' | 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'>): string | undefined {
  if (config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  if (!config.OTEL_EXPORTER_OTLP_ENDPOINT) return undefined;
  return `${config.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces`;
}

export interface SpanOptions {
  /**
   * The parent: W3C headers (a record that carries none starts a new trace), or, when
   * omitted, the span active where this is called.
   */
  readonly parent?: TraceCarrier;
  readonly kind?: SpanKind;
  readonly attributes?: Attributes;
  /**
   * The trace id a root span takes (32 hex digits) when `parent` carries none: derived from
   * the work's own id, a replay of that work lands in the same trace.
   */
  readonly rootTraceId?: string;
}

/** Random ids, except a root trace id the next startSpan asked for (startSpan is synchronous). */
class ChosenRootIds implements IdGenerator {
  private readonly random = new RandomIdGenerator();
  next: string | undefined;

  generateTraceId(): string {
    const chosen = this.next;
    this.next = undefined;
    return chosen ?? this.random.generateTraceId();
  }

  generateSpanId(): string {
    return this.random.generateSpanId();
  }
}

/**
 * Each app's tracer, one provider per app instance (so apps sharing a process in tests keep
 * their own service name). Spans always get real ids, which the event log and the logs use
 * as correlation ids; they are exported by OTLP/HTTP only when an endpoint is configured.
 */
@Injectable()
export class Tracing implements OnApplicationShutdown {
  private readonly provider: BasicTracerProvider;
  private readonly tracer: Tracer;
  private readonly ids = new ChosenRootIds();
  /** The OTLP/HTTP URL spans are sent to, or undefined when they are not exported. */
  readonly exportUrl: string | undefined;

  constructor(config: Pick<TocsinConfig, 'OTEL_EXPORTER_OTLP_ENDPOINT' | 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT' | 'OTEL_BSP_SCHEDULE_DELAY'>, service: string) {
    ensureContextManager();
    this.exportUrl = tracesUrl(config);
    this.provider = new BasicTracerProvider({
      idGenerator: this.ids,
      resource: resourceFromAttributes({ 'service.name': `tocsin-${service}`, 'service.namespace': 'tocsin' }),
      spanProcessors: this.exportUrl
        ? [new BatchSpanProcessor(new OTLPTraceExporter({ url: this.exportUrl }), { scheduledDelayMillis: config.OTEL_BSP_SCHEDULE_DELAY })]
        : [],
    });
    this.tracer = this.provider.getTracer(`tocsin-${service}`);
  }

  startSpan(name: string, options: SpanOptions = {}): Span {
    const parent = options.parent === undefined ? context.active() : propagator.extract(ROOT_CONTEXT, options.parent, getter);
    this.ids.next = options.rootTraceId;
    try {
      return this.tracer.startSpan(name, { kind: options.kind ?? SpanKind.INTERNAL, ...(options.attributes ? { attributes: options.attributes } : {}) }, parent);
    } finally {
      this.ids.next = undefined;
    }
  }

  /** Runs `fn` with `span` active: spans started and records produced inside are its children. */
  withSpan<T>(span: Span, fn: () => T): T {
    return context.with(trace.setSpan(context.active(), span), fn);
  }

  /** Runs `fn` in a new span that ends when it settles, marked as an error if it throws. */
  async inSpan<T>(name: string, options: SpanOptions, fn: (span: Span) => Promise<T>): Promise<T> {
    const span = this.startSpan(name, options);
    try {
      return await this.withSpan(span, () => fn(span));
    } catch (err) {
      failSpan(span, err);
      throw err;
    } finally {
      span.end();
    }
  }

  /** Spans that end with one piece of work (a transaction), started while it runs. */
  group(): SpanGroup {
    return new SpanGroup(this);
  }

  /** Flushes what is waiting to be exported (tests, and a drain before exit). */
  async flush(): Promise<void> {
    await this.provider.forceFlush();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.provider.shutdown();
  }
}

/**
 * Spans opened for the items of one transaction (a router batch, a fan-out): each is marked
 * failed if the work fails, and all end when it settles.
 */
export class SpanGroup {
  private readonly spans: Span[] = [];

  constructor(private readonly tracing: Tracing) {}

  /** Starts a span in the group; answers the `traceparent` that makes it the parent of what the item produces. */
  start(name: string, options: SpanOptions): string | undefined {
    const span = this.tracing.startSpan(name, options);
    this.spans.push(span);
    return traceHeaders(span).traceparent;
  }

  async endWith<T>(work: Promise<T>): Promise<T> {
    try {
      return await work;
    } catch (err) {
      for (const span of this.spans) failSpan(span, err);
      throw err;
    } finally {
      for (const span of this.spans) span.end();
    }
  }
}

/** The `traceparent` (and `tracestate`) that make `span` the parent of whatever carries them. */
export function traceHeaders(span: Span | undefined = trace.getActiveSpan()): Record<string, string> {
  const headers: Record<string, string> = {};
  if (span && isSpanContextValid(span.spanContext())) propagator.inject(trace.setSpan(ROOT_CONTEXT, span), headers, setter);
  return headers;
}

/** The trace and span ids of the active span, for log lines; empty outside any span. */
export function activeTraceIds(): { trace_id?: string; span_id?: string } {
  const spanContext = trace.getActiveSpan()?.spanContext();
  if (!spanContext || !isSpanContextValid(spanContext)) return {};
  return { trace_id: spanContext.traceId, span_id: spanContext.spanId };
}

export function failSpan(span: Span, err: unknown): void {
  span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
}

/** The app's Tracing, injectable everywhere. */
@Global()
@Module({})
export class TracingModule {
  static forRoot(config: TocsinConfig, service: string): DynamicModule {
    return {
      module: TracingModule,
      providers: [{ provide: Tracing, useFactory: () => new Tracing(config, service) }],
      exports: [Tracing],
    };
  }
}
