import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One span as an OTLP/HTTP JSON export carries it, with the service that sent it. */
export interface ReceivedSpan {
  readonly service: string;
  readonly traceId: string;
  readonly spanId: string;
  /** Empty for a root span. */
  readonly parentSpanId: string;
  readonly name: string;
  readonly kind: number;
  readonly startNanos: bigint;
  readonly endNanos: bigint;
  readonly attributes: Readonly<Record<string, string | number | boolean>>;
  /** 0 unset, 1 ok, 2 error. */
  readonly status: number;
}

interface AnyValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
}
interface KeyValue {
  key: string;
  value: AnyValue;
}
interface ExportRequest {
  resourceSpans?: Array<{
    resource?: { attributes?: KeyValue[] };
    scopeSpans?: Array<{
      spans?: Array<{
        traceId: string;
        spanId: string;
        parentSpanId?: string;
        name: string;
        kind?: number;
        startTimeUnixNano: string | number;
        endTimeUnixNano: string | number;
        attributes?: KeyValue[];
        status?: { code?: number };
      }>;
    }>;
  }>;
}

const plain = (v: AnyValue): string | number | boolean =>
  v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : undefined) ?? v.doubleValue ?? v.boolValue ?? '';

const attributesOf = (list: readonly KeyValue[] | undefined): Record<string, string | number | boolean> =>
  Object.fromEntries((list ?? []).map((kv) => [kv.key, plain(kv.value)]));

/** OTLP/JSON ids are hex; a base64 one (protobuf JSON mapping) is turned into hex. */
const hexId = (id: string | undefined, bytes: number): string => {
  if (!id) return '';
  if (new RegExp(`^[0-9a-f]{${bytes * 2}}$`, 'i').test(id)) return id.toLowerCase();
  return Buffer.from(id, 'base64').toString('hex');
};

/**
 * A trace collector's OTLP/HTTP endpoint on loopback (`POST /v1/traces`, JSON encoding, as
 * the OpenTelemetry JS exporter sends): every span it was sent, for a test to follow a trace.
 */
export class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  /** Requests that were not an OTLP/JSON export (the test fails on them). */
  readonly refused: string[] = [];

  private constructor(
    private readonly server: Server,
    /** The base URL, as OTEL_EXPORTER_OTLP_ENDPOINT takes it. */
    readonly url: string,
  ) {}

  static async start(): Promise<OtlpReceiver> {
    const holder: { receiver?: OtlpReceiver } = {};
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const receiver = holder.receiver!;
        const type = req.headers['content-type'] ?? '';
        if (req.method !== 'POST' || req.url !== '/v1/traces' || !type.startsWith('application/json')) {
          receiver.refused.push(`${req.method} ${req.url} (${type})`);
          res.writeHead(415, { 'content-type': 'text/plain' }).end('OTLP/HTTP JSON only');
          return;
        }
        try {
          receiver.accept(JSON.parse(Buffer.concat(chunks).toString('utf8')) as ExportRequest);
        } catch (err) {
          receiver.refused.push(`unparsable export: ${(err as Error).message}`);
          res.writeHead(400, { 'content-type': 'application/json' }).end('{}');
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    holder.receiver = new OtlpReceiver(server, `http://127.0.0.1:${port}`);
    return holder.receiver;
  }

  private accept(request: ExportRequest): void {
    for (const resourceSpans of request.resourceSpans ?? []) {
      const service = String(attributesOf(resourceSpans.resource?.attributes)['service.name'] ?? '');
      for (const scope of resourceSpans.scopeSpans ?? []) {
        for (const span of scope.spans ?? []) {
          this.spans.push({
            service,
            traceId: hexId(span.traceId, 16),
            spanId: hexId(span.spanId, 8),
            parentSpanId: hexId(span.parentSpanId, 8),
            name: span.name,
            kind: span.kind ?? 0,
            startNanos: BigInt(span.startTimeUnixNano),
            endNanos: BigInt(span.endTimeUnixNano),
            attributes: attributesOf(span.attributes),
            status: span.status?.code ?? 0,
          });
        }
      }
    }
  }

  /** The spans of one trace, in the order they started. */
  trace(traceId: string): ReceivedSpan[] {
    return this.spans.filter((s) => s.traceId === traceId).sort((a, b) => (a.startNanos < b.startNanos ? -1 : 1));
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
