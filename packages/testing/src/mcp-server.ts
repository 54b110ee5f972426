import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { ZodRawShapeCompat } from '@modelcontextprotocol/sdk/server/zod-compat.js';
import {
  ErrorCode,
  InitializeRequestSchema,
  isInitializeRequest,
  ListToolsRequestSchema,
  McpError,
} from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { passOAuthGate, type TestMcpAuth } from './oauth-gate';

/**
 * HTTP-level faults (`http_500`, `http_401`, `http_403`, `garbage`, `hang`, `tools_list_hang`)
 * apply to every request at once; `initialize_error`, `unsupported_version` and
 * `tools_list_error` apply to sessions opened after the change (every probe opens a new
 * session). `http_401` is a bare 401 without a `WWW-Authenticate` challenge (a gateway that
 * refuses without saying how to authenticate); an OAuth-protected server is the `auth` option.
 */
export type TestMcpServerMode =
  | 'ok'
  | 'http_500'
  | 'http_401'
  | 'http_403'
  | 'garbage'
  | 'hang'
  | 'tools_list_hang'
  | 'initialize_error'
  | 'unsupported_version'
  | 'tools_list_error';

/** A protocol version no client speaks, answered by the `unsupported_version` fault. */
export const UNSUPPORTED_HANDSHAKE_VERSION = '1999-01-01';

/** `streamable-http` (2025-03-26+) or the legacy 2024-11-05 HTTP+SSE transport only. */
export type TestMcpTransport = 'streamable-http' | 'sse';

export interface TestMcpTool {
  name: string;
  description?: string;
  /** A zod raw shape, e.g. `{ query: z.string() }`; the SDK turns it into the JSON Schema. */
  inputSchema?: ZodRawShapeCompat;
}

export interface StartMcpServerOptions {
  /** 0 or absent: a free port, kept across stop()/start(). */
  port?: number;
  tools?: readonly TestMcpTool[];
  transport?: TestMcpTransport;
  /** Tools per tools/list page (the SDK lists every tool in one page unless cut here). */
  pageSize?: number;
  /**
   * `oauth`: MCP requests need `Authorization: Bearer <TEST_OAUTH_TOKEN>`, or are answered
   * 401 with the SDK's Bearer challenge. A legacy SSE server checks it on its two routes only,
   * so the streamable POST is still refused with 405 first, as route-level middleware does.
   */
  auth?: TestMcpAuth;
}

export interface TestMcpServer {
  /** `http://127.0.0.1:<port>/mcp` — the one URL a client needs for either transport. */
  readonly url: string;
  readonly port: number;
  readonly mode: TestMcpServerMode;
  /** Open MCP sessions, to check that clients end theirs. */
  readonly sessionCount: number;
  /** Listens again on the same port. */
  start(): Promise<void>;
  /** Ends every session and connection, so new connections are refused. */
  stop(): Promise<void>;
  setMode(mode: TestMcpServerMode): void;
  /** Replaces the tool list for sessions opened from now on (schema drift). */
  setTools(tools: readonly TestMcpTool[]): void;
  close(): Promise<void>;
}

export const MCP_PATH = '/mcp';
const SSE_MESSAGES_PATH = '/messages';

export const DEFAULT_TEST_TOOLS: readonly TestMcpTool[] = [
  { name: 'echo', description: 'Echoes its input.', inputSchema: { text: z.string() } },
  {
    name: 'add',
    description: 'Adds two numbers.',
    inputSchema: { a: z.number(), b: z.number() },
  },
];

interface State {
  mode: TestMcpServerMode;
  tools: readonly TestMcpTool[];
  pageSize: number | undefined;
}

/** Something that owns server-side resources of one MCP session. */
interface Session {
  close(): Promise<void>;
}

export async function startMcpServer(opts: StartMcpServerOptions = {}): Promise<TestMcpServer> {
  const server = new TestMcpServerImpl(opts);
  await server.start();
  return server;
}

class TestMcpServerImpl implements TestMcpServer {
  private readonly state: State;
  private readonly transport: TestMcpTransport;
  private readonly auth: TestMcpAuth | undefined;
  private readonly sessions = new Map<string, Session>();
  private httpServer: Server | undefined;
  private currentPort: number;
  private closed = false;

  constructor(opts: StartMcpServerOptions) {
    this.state = { mode: 'ok', tools: opts.tools ?? DEFAULT_TEST_TOOLS, pageSize: opts.pageSize };
    this.transport = opts.transport ?? 'streamable-http';
    this.auth = opts.auth;
    this.currentPort = opts.port ?? 0;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}${MCP_PATH}`;
  }

  get port(): number {
    return this.currentPort;
  }

  get mode(): TestMcpServerMode {
    return this.state.mode;
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  setMode(mode: TestMcpServerMode): void {
    this.state.mode = mode;
  }

  setTools(tools: readonly TestMcpTool[]): void {
    this.state.tools = [...tools];
  }

  async start(): Promise<void> {
    if (this.closed) throw new Error('TestMcpServer is closed');
    if (this.httpServer) return;
    const httpServer = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => failRequest(res, err));
    });
    await new Promise<void>((resolve, reject) => {
      httpServer.once('error', reject);
      httpServer.listen(this.currentPort, '127.0.0.1', () => {
        httpServer.off('error', reject);
        resolve();
      });
    });
    this.currentPort = (httpServer.address() as AddressInfo).port;
    this.httpServer = httpServer;
  }

  async stop(): Promise<void> {
    const httpServer = this.httpServer;
    if (!httpServer) return;
    this.httpServer = undefined;
    const sessions = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.allSettled(sessions.map((s) => s.close()));
    const closed = new Promise<void>((resolve) => httpServer.close(() => resolve()));
    httpServer.closeAllConnections();
    await closed;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.stop();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const mode = this.state.mode;
    if (mode === 'http_500') {
      sendText(res, 500, 'simulated internal server error');
      return;
    }
    if (mode === 'http_401') {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"unauthorized"}');
      return;
    }
    if (mode === 'http_403') {
      // The challenge a resource server sends with a token that lacks a scope: still a refusal.
      res
        .writeHead(403, { 'content-type': 'application/json', 'www-authenticate': 'Bearer error="insufficient_scope", scope="mcp"' })
        .end('{"error":"insufficient_scope"}');
      return;
    }
    if (mode === 'garbage' && req.method === 'POST') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('<html>not json');
      return;
    }
    if (mode === 'hang') return; // never answered; stop() destroys the connection
    if (mode === 'tools_list_hang' && req.method === 'POST') {
      const body = await readJson(req);
      if (jsonRpcMethod(body) === 'tools/list') return;
      await this.route(req, res, body);
      return;
    }
    await this.route(req, res, undefined);
  }

  private async route(req: IncomingMessage, res: ServerResponse, parsedBody: unknown): Promise<void> {
    const { pathname } = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (this.transport === 'sse') {
      await this.handleSse(pathname, req, res);
    } else if (pathname === MCP_PATH) {
      if (!(await this.authorized(req, res))) return;
      await this.handleStreamable(req, res, parsedBody);
    } else {
      sendText(res, 404, 'not found');
    }
  }

  private async handleStreamable(req: IncomingMessage, res: ServerResponse, parsedBody: unknown): Promise<void> {
    const sessionId = headerValue(req, 'mcp-session-id');
    if (sessionId !== undefined) {
      const session = this.sessions.get(sessionId);
      if (!(session instanceof StreamableSession)) {
        sendJsonRpcError(res, 404, ErrorCode.ConnectionClosed, 'Session not found');
        return;
      }
      await session.transport.handleRequest(req, res, parsedBody);
      return;
    }
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      sendText(res, 405, 'method not allowed without a session');
      return;
    }
    const body = parsedBody ?? (await readJson(req));
    if (!isInitializeRequest(body)) {
      sendJsonRpcError(res, 400, ErrorCode.InvalidRequest, 'Bad Request: no valid session ID');
      return;
    }
    const session = await this.openStreamableSession();
    await session.transport.handleRequest(req, res, body);
  }

  private async openStreamableSession(): Promise<StreamableSession> {
    const mcp = buildMcpServer(this.state);
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        this.sessions.set(id, session);
      },
    });
    const session = new StreamableSession(mcp, transport);
    transport.onclose = () => {
      if (transport.sessionId !== undefined) this.sessions.delete(transport.sessionId);
    };
    await mcp.connect(transport);
    return session;
  }

  /** True when the request may go on; a refused one has been answered with the SDK's challenge. */
  private async authorized(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    return this.auth === undefined || passOAuthGate(req, res, this.url);
  }

  private async handleSse(pathname: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (pathname === MCP_PATH && req.method === 'GET') {
      if (!(await this.authorized(req, res))) return;
      await this.openSseSession(res);
      return;
    }
    if (pathname === SSE_MESSAGES_PATH && req.method === 'POST') {
      if (!(await this.authorized(req, res))) return;
      const sessionId = new URL(req.url ?? '/', 'http://127.0.0.1').searchParams.get('sessionId');
      const session = sessionId === null ? undefined : this.sessions.get(sessionId);
      if (!(session instanceof SseSession)) {
        sendText(res, 404, 'session not found');
        return;
      }
      await session.transport.handlePostMessage(req, res);
      return;
    }
    // A legacy-only server rejects the streamable POST; clients take 404/405 as "use SSE".
    res.setHeader('allow', 'GET');
    sendText(res, pathname === MCP_PATH ? 405 : 404, 'legacy HTTP+SSE transport only');
  }

  private async openSseSession(res: ServerResponse): Promise<void> {
    const mcp = buildMcpServer(this.state);
    const transport = new SSEServerTransport(SSE_MESSAGES_PATH, res);
    const id = transport.sessionId;
    this.sessions.set(id, new SseSession(mcp, transport));
    transport.onclose = () => {
      this.sessions.delete(id);
    };
    await mcp.connect(transport);
  }
}

class StreamableSession implements Session {
  constructor(
    readonly mcp: McpServer,
    readonly transport: StreamableHTTPServerTransport,
  ) {}

  close(): Promise<void> {
    return this.mcp.close();
  }
}

class SseSession implements Session {
  constructor(
    readonly mcp: McpServer,
    readonly transport: SSEServerTransport,
  ) {}

  close(): Promise<void> {
    return this.mcp.close();
  }
}

/** One McpServer per session: the SDK binds a server instance to a single transport. */
function buildMcpServer(state: State): McpServer {
  const mcp = new McpServer(
    { name: 'tocsin-test-mcp', version: '1.0.0' },
    { capabilities: { tools: {} } },
  );
  for (const tool of state.tools) registerTool(mcp, tool);
  if (state.mode === 'initialize_error') {
    mcp.server.setRequestHandler(InitializeRequestSchema, () => {
      throw new McpError(ErrorCode.InvalidParams, 'Unsupported protocol version (simulated)');
    });
  }
  if (state.mode === 'unsupported_version') {
    mcp.server.setRequestHandler(InitializeRequestSchema, () => ({
      protocolVersion: UNSUPPORTED_HANDSHAKE_VERSION,
      capabilities: { tools: {} },
      serverInfo: { name: 'tocsin-test-mcp', version: '1.0.0' },
    }));
  }
  if (state.pageSize !== undefined) paginateTools(mcp, state.tools, state.pageSize);
  if (state.mode === 'tools_list_error') {
    mcp.server.setRequestHandler(ListToolsRequestSchema, () => {
      throw new McpError(ErrorCode.InternalError, 'tools/list failed (simulated)');
    });
  }
  return mcp;
}

function registerTool(mcp: McpServer, tool: TestMcpTool): void {
  mcp.registerTool(
    tool.name,
    { description: tool.description, inputSchema: tool.inputSchema ?? {} },
    (args) => ({ content: [{ type: 'text', text: JSON.stringify(args) }] }),
  );
}

/** Serves tools/list in pages, the cursor being the next page's first index. */
function paginateTools(mcp: McpServer, tools: readonly TestMcpTool[], pageSize: number): void {
  const all = tools.map((tool) => ({
    name: tool.name,
    ...(tool.description === undefined ? {} : { description: tool.description }),
    inputSchema: z.toJSONSchema(z.object(tool.inputSchema ?? {})) as { type: 'object' },
  }));
  mcp.server.setRequestHandler(ListToolsRequestSchema, (request) => {
    const start = Number(request.params?.cursor ?? '0');
    const next = start + pageSize;
    return { tools: all.slice(start, next), ...(next < all.length ? { nextCursor: String(next) } : {}) };
  });
}

function jsonRpcMethod(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const method = (body as { method?: unknown }).method;
  return typeof method === 'string' ? method : undefined;
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
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

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }).end(text);
}

function sendJsonRpcError(res: ServerResponse, status: number, code: number, message: string): void {
  res
    .writeHead(status, { 'content-type': 'application/json' })
    .end(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }));
}

function failRequest(res: ServerResponse, err: unknown): void {
  if (res.headersSent) {
    res.destroy(err instanceof Error ? err : undefined);
    return;
  }
  sendText(res, 500, err instanceof Error ? err.message : 'internal error');
}
