import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { toNodeHandler } from '@modelcontextprotocol/node';
import {
  createMcpHandler,
  McpServer,
  ProtocolError,
  ProtocolErrorCode,
  UnsupportedProtocolVersionError,
  type McpHttpHandler,
} from '@modelcontextprotocol/server';
import { z } from 'zod';
import { passOAuthGate, type TestMcpAuth } from './oauth-gate';

/**
 * Faults of a stateless (2026-07-28) server. HTTP-level faults (`http_500`, `http_401` — a
 * bare 401 without a challenge —, `http_403`, `garbage`, `hang`) are answered in front of the
 * SDK; protocol faults are the SDK's own answers where the SDK lets a handler fail
 * (`tools_list_error`). The SDK answers `server/discover` itself, so `discover_error` (a
 * JSON-RPC error to discovery) and `unsupported_version` (the SDK's -32022 error naming only
 * a future revision) are answered in front of it, in the shape the SDK uses. Past the HTTP
 * faults, a handshake-era `initialize` is always refused with HTTP 400 (by the SDK itself,
 * `legacy: 'reject'`, unless `unsupported_version` answers first).
 */
export type StatelessMcpServerMode =
  | 'ok'
  | 'http_500'
  | 'http_401'
  | 'http_403'
  | 'garbage'
  | 'hang'
  | 'tools_list_hang'
  | 'discover_error'
  | 'tools_list_error'
  | 'unsupported_version';

export interface StatelessTestTool {
  name: string;
  description?: string;
  /** A zod object shape, e.g. `{ query: z.string() }`. */
  inputSchema?: z.ZodRawShape;
}

export interface StartStatelessMcpServerOptions {
  tools?: readonly StatelessTestTool[];
  /** Tools per tools/list page; the SDK lists every tool in one page, so pages are cut here. */
  pageSize?: number;
  /** `sse` answers every request over an event stream; by default the SDK answers JSON. */
  replies?: 'json' | 'sse';
  /** `oauth`: requests need `Authorization: Bearer <TEST_OAUTH_TOKEN>`, or get the SDK's 401 challenge. */
  auth?: TestMcpAuth;
}

export interface StatelessTestMcpServer {
  readonly url: string;
  readonly port: number;
  readonly mode: StatelessMcpServerMode;
  /** HTTP requests received, to check a client's request count. */
  readonly requestCount: number;
  /** The headers of the newest request, to check what a client sent. */
  readonly lastHeaders: IncomingHttpHeaders | undefined;
  setMode(mode: StatelessMcpServerMode): void;
  setTools(tools: readonly StatelessTestTool[]): void;
  /** Stops listening (new connections are refused); start() listens again on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

/** A protocol version that no released client speaks, for the version-negotiation fault. */
export const UNSUPPORTED_FUTURE_VERSION = '2099-01-01';

export const DEFAULT_STATELESS_TEST_TOOLS: readonly StatelessTestTool[] = [
  { name: 'echo', description: 'Echoes its input.', inputSchema: { text: z.string() } },
  { name: 'add', description: 'Adds two numbers.', inputSchema: { a: z.number(), b: z.number() } },
];

export async function startStatelessMcpServer(opts: StartStatelessMcpServerOptions = {}): Promise<StatelessTestMcpServer> {
  const server = new StatelessServerImpl(opts);
  await server.start();
  return server;
}

class StatelessServerImpl implements StatelessTestMcpServer {
  mode: StatelessMcpServerMode = 'ok';
  requestCount = 0;
  lastHeaders: IncomingHttpHeaders | undefined;
  private tools: readonly StatelessTestTool[];
  private readonly pageSize: number | undefined;
  private readonly replies: 'json' | 'sse';
  private readonly auth: TestMcpAuth | undefined;
  private mcpHandler: McpHttpHandler | undefined;
  private readonly sockets = new Set<Socket>();
  private httpServer: Server | undefined;
  private currentPort = 0;

  constructor(opts: StartStatelessMcpServerOptions) {
    this.tools = opts.tools ?? DEFAULT_STATELESS_TEST_TOOLS;
    this.pageSize = opts.pageSize;
    this.replies = opts.replies ?? 'json';
    this.auth = opts.auth;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/mcp`;
  }

  get port(): number {
    return this.currentPort;
  }

  setMode(mode: StatelessMcpServerMode): void {
    this.mode = mode;
  }

  setTools(tools: readonly StatelessTestTool[]): void {
    this.tools = [...tools];
  }

  async start(): Promise<void> {
    if (this.httpServer) return;
    const httpServer = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' }).end(String(err));
        else res.destroy();
      });
    });
    httpServer.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      httpServer.once('error', reject);
      httpServer.listen(this.currentPort, '127.0.0.1', () => resolve());
    });
    this.currentPort = (httpServer.address() as AddressInfo).port;
    this.httpServer = httpServer;
  }

  async stop(): Promise<void> {
    const httpServer = this.httpServer;
    if (!httpServer) return;
    this.httpServer = undefined;
    const closed = new Promise<void>((resolve) => httpServer.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  async close(): Promise<void> {
    await this.stop();
    await this.mcpHandler?.close();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.requestCount++;
    this.lastHeaders = req.headers;
    const mode = this.mode;
    if (mode === 'http_500') return void res.writeHead(500, { 'content-type': 'text/plain' }).end('simulated failure');
    if (mode === 'http_401') return void res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"unauthorized"}');
    if (mode === 'http_403') {
      // The challenge a resource server sends with a token that lacks a scope: still a refusal.
      const challenge = 'Bearer error="insufficient_scope", scope="mcp"';
      return void res.writeHead(403, { 'content-type': 'application/json', 'www-authenticate': challenge }).end('{"error":"insufficient_scope"}');
    }
    if (mode === 'garbage') return void res.writeHead(200, { 'content-type': 'application/json' }).end('<html>not json');
    if (mode === 'hang') return; // never answered; the socket is destroyed on stop()
    // Behind the HTTP faults (a proxy's), in front of everything the MCP server itself answers.
    if (this.auth !== undefined && !(await passOAuthGate(req, res, this.url))) return;
    if (mode === 'tools_list_hang' && req.headers['mcp-method'] === 'tools/list') return;
    const body = req.method === 'POST' ? await readJson(req) : undefined;
    const id = requestId(body);
    if (mode === 'unsupported_version' && id !== undefined) {
      // The SDK's own negotiation error, as a server speaking only a newer revision answers it.
      const requested = String(req.headers['mcp-protocol-version'] ?? '');
      const error = new UnsupportedProtocolVersionError({ supported: [UNSUPPORTED_FUTURE_VERSION], requested });
      return sendJson(res, 400, { jsonrpc: '2.0', id, error: { code: error.code, message: error.message, data: error.data } });
    }
    if (mode === 'discover_error' && id !== undefined && req.headers['mcp-method'] === 'server/discover') {
      return sendJson(res, 200, { jsonrpc: '2.0', id, error: { code: ProtocolErrorCode.InternalError, message: 'discovery failed (simulated)' } });
    }
    await toNodeHandler(this.handler())(req, res, body);
  }

  /** The factory reads the current tools and mode on every request. */
  private handler(): McpHttpHandler {
    if (this.mcpHandler) return this.mcpHandler;
    this.mcpHandler = createMcpHandler(() => this.buildServer(), {
      legacy: 'reject',
      responseMode: this.replies === 'sse' ? 'sse' : 'auto',
    });
    return this.mcpHandler;
  }

  private buildServer(): McpServer {
    const mcp = new McpServer({ name: 'tocsin-test-stateless-mcp', version: '2.0.0' }, { capabilities: { tools: {} } });
    for (const tool of this.tools) {
      mcp.registerTool(
        tool.name,
        { ...(tool.description ? { description: tool.description } : {}), inputSchema: z.object(tool.inputSchema ?? {}) },
        () => ({ content: [{ type: 'text', text: tool.name }] }),
      );
    }
    if (this.pageSize !== undefined) this.paginateTools(mcp, this.pageSize);
    if (this.mode === 'tools_list_error') {
      mcp.server.setRequestHandler('tools/list', () => {
        throw new ProtocolError(ProtocolErrorCode.InternalError, 'tools/list failed (simulated)');
      });
    }
    return mcp;
  }

  /** Serves tools/list in pages of `pageSize`, the cursor being the next page's first index. */
  private paginateTools(mcp: McpServer, pageSize: number): void {
    const all = this.tools.map((tool) => ({
      name: tool.name,
      ...(tool.description ? { description: tool.description } : {}),
      inputSchema: z.toJSONSchema(z.object(tool.inputSchema ?? {})) as { type: 'object' },
    }));
    mcp.server.setRequestHandler('tools/list', (request) => {
      const start = Number(request.params?.cursor ?? '0');
      const next = start + pageSize;
      return { tools: all.slice(start, next), ...(next < all.length ? { nextCursor: String(next) } : {}) };
    });
  }
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

function requestId(body: unknown): string | number | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const id = (body as { id?: unknown }).id;
  return typeof id === 'string' || typeof id === 'number' ? id : undefined;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
