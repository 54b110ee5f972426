import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { ErrorCode, ListToolsRequestSchema, McpError } from '@modelcontextprotocol/sdk/types.js';
import { isStorableText } from '@tocsin/contracts';
import { startMcpServer, startStatelessMcpServer } from '@tocsin/testing';
import { MAX_ERROR_LENGTH, MAX_TOOLS, probeMcpServer } from '../src';

const TIMEOUT_MS = 10_000;

interface Listener {
  readonly url: string;
  readonly server: Server;
  /** TCP connections accepted, counted before any byte is read. */
  connections: number;
  close(): Promise<void>;
}

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void, host = '127.0.0.1'): Promise<Listener> {
  const server = createServer(handler);
  const listener = {
    server,
    connections: 0,
    url: '',
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  server.on('connection', () => listener.connections++);
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  listener.url = `http://${host}:${(server.address() as AddressInfo).port}/mcp`;
  return listener;
}

describe('redirects are never followed', () => {
  let privateListener: Listener;
  let redirector: Listener;
  const seenAuthorization: Array<string | undefined> = [];

  beforeAll(async () => {
    // Stands for 169.254.169.254 or an internal service: nothing may ever connect to it.
    privateListener = await listen((_req, res) => res.end('{"secret":"metadata"}'));
    redirector = await listen((req, res) => {
      seenAuthorization.push(req.headers.authorization);
      req.resume();
      res.writeHead(307, { location: `${privateListener.url}?token=abc` }).end();
    });
  });

  afterAll(async () => {
    await redirector.close();
    await privateListener.close();
  });

  it.each(['handshake', 'stateless'] as const)('a 307 on the %s generation fails at the http layer and goes nowhere', async (generation) => {
    const outcome = await probeMcpServer(redirector.url, {
      timeoutMs: TIMEOUT_MS,
      generation,
      headers: { authorization: 'Bearer monitor-secret' },
    });

    expect(outcome.ok).toBe(false);
    expect(outcome.failure_layer).toBe('http');
    expect(outcome.http_status).toBe(307);
    // The target is named without its query, which may carry credentials.
    expect(outcome.error).toContain(`redirect to ${privateListener.url} not followed`);
    expect(outcome.error).not.toContain('token=abc');
    expect(privateListener.connections).toBe(0);
    expect(seenAuthorization.every((a) => a === 'Bearer monitor-secret')).toBe(true);
  });

  it('the legacy SSE stream is not redirected either', async () => {
    // Refuses the streamable POST as a legacy-only server does, then redirects the SSE GET.
    const legacy = await listen((req, res) => {
      req.resume();
      if (req.method === 'POST') res.writeHead(405).end();
      else res.writeHead(302, { location: privateListener.url }).end();
    });
    try {
      const outcome = await probeMcpServer(legacy.url, { timeoutMs: TIMEOUT_MS });
      expect(outcome.ok).toBe(false);
      const sseConnect = outcome.steps.find((s) => s.step === 'sse-connect');
      expect(sseConnect).toMatchObject({ http_status: 302, error: `redirect to ${privateListener.url} not followed` });
      expect(privateListener.connections).toBe(0);
    } finally {
      await legacy.close();
    }
  });
});

/** Tools whose list is about `count` × 2 KiB. */
function bulkyTools(count: number): Array<{ name: string; description: string }> {
  return Array.from({ length: count }, (_, i) => ({ name: `tool_${i}`, description: 'x'.repeat(2048) }));
}

describe('replies are read up to max_response_bytes', () => {
  const maxResponseBytes = 16 * 1024;

  it.each(['streamable-http', 'sse'] as const)('a tools list past the cap over %s stops with a clear error', async (transport) => {
    const server = await startMcpServer({ tools: bulkyTools(40), transport });
    try {
      const outcome = await probeMcpServer(server.url, { timeoutMs: TIMEOUT_MS, maxResponseBytes });
      expect(outcome.ok).toBe(false);
      expect(outcome.failure_layer).toBe('tools_list');
      expect(outcome.error).toBe(`tools/list failed: response exceeded max_response_bytes (${maxResponseBytes})`);
      // Stopped when the cap was reached, not at the deadline.
      expect(outcome.latency_ms).toBeLessThan(TIMEOUT_MS / 2);
    } finally {
      await server.close();
    }
  });

  it('the cap counts every page of the list together', async () => {
    // Each page is far under the cap; together they are over it.
    const server = await startMcpServer({ tools: bulkyTools(40), pageSize: 2 });
    try {
      const outcome = await probeMcpServer(server.url, { timeoutMs: TIMEOUT_MS, maxResponseBytes });
      expect(outcome).toMatchObject({ ok: false, failure_layer: 'tools_list' });
      expect(outcome.error).toContain(`response exceeded max_response_bytes (${maxResponseBytes})`);
    } finally {
      await server.close();
    }
  });

  it('the stateless generation keeps to the same cap', async () => {
    const server = await startStatelessMcpServer({ tools: bulkyTools(40) });
    try {
      const outcome = await probeMcpServer(server.url, { timeoutMs: TIMEOUT_MS, maxResponseBytes, generation: 'stateless' });
      expect(outcome).toMatchObject({ ok: false, failure_layer: 'tools_list', generation: 'stateless' });
      expect(outcome.error).toBe(`tools/list failed: response exceeded max_response_bytes (${maxResponseBytes})`);
    } finally {
      await server.close();
    }
  });

  it(`a list of more than ${MAX_TOOLS} tools fails however small`, async () => {
    const tools = Array.from({ length: MAX_TOOLS + 1 }, (_, i) => ({ name: `t${i}` }));
    const server = await startMcpServer({ tools });
    try {
      const outcome = await probeMcpServer(server.url, { timeoutMs: TIMEOUT_MS });
      expect(outcome).toMatchObject({ ok: false, failure_layer: 'tools_list' });
      expect(outcome.error).toContain(`more than ${MAX_TOOLS} tools`);
    } finally {
      await server.close();
    }
  });
});

/**
 * A real SDK server whose tools/list fails with `message`, or lists `toolNames`: the server's
 * own text, which the probe copies into results.
 */
async function startServerSaying(opts: { errorMessage?: string; toolNames?: string[] }): Promise<Listener> {
  return listen((req, res) => {
    const mcp = new McpServer({ name: 'odd-text', version: '1.0.0' });
    for (const name of opts.toolNames ?? ['ok']) mcp.registerTool(name, { description: 'd' }, () => ({ content: [] }));
    if (opts.errorMessage !== undefined) {
      const message = opts.errorMessage;
      mcp.server.setRequestHandler(ListToolsRequestSchema, () => {
        throw new McpError(ErrorCode.InternalError, message);
      });
    }
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    res.on('close', () => void transport.close());
    void mcp.connect(transport).then(() => transport.handleRequest(req, res));
  });
}

describe("the server's text is made storable", () => {
  it('an error text with NUL and half an emoji becomes storable', async () => {
    const server = await startServerSaying({ errorMessage: 'bad\u0000 thing \ud83d and \udc00 end' });
    try {
      const outcome = await probeMcpServer(server.url, { timeoutMs: TIMEOUT_MS });
      expect(outcome).toMatchObject({ ok: false, failure_layer: 'tools_list' });
      expect(outcome.error).toContain('bad thing \ufffd and \ufffd end');
      expect(isStorableText(outcome.error!)).toBe(true);
      for (const step of outcome.steps) expect(isStorableText(step.error ?? '')).toBe(true);
    } finally {
      await server.close();
    }
  });

  it('an error text cut at its bound never splits an emoji', async () => {
    const server = await startServerSaying({ errorMessage: `${'a'.repeat(MAX_ERROR_LENGTH - 40)}${'😀'.repeat(40)}` });
    try {
      const outcome = await probeMcpServer(server.url, { timeoutMs: TIMEOUT_MS });
      expect(outcome.error!.length).toBeLessThanOrEqual(MAX_ERROR_LENGTH);
      expect(outcome.error).toMatch(/…$/);
      expect(isStorableText(outcome.error!)).toBe(true);
    } finally {
      await server.close();
    }
  });

  it('tool names with NUL or a lone surrogate are stored cleaned', async () => {
    // The SDK warns about such names, and registers them all the same.
    jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    const server = await startServerSaying({ toolNames: ['nul\u0000name', 'half\ud83d'] });
    try {
      const outcome = await probeMcpServer(server.url, { timeoutMs: TIMEOUT_MS });
      expect(outcome.ok).toBe(true);
      expect(outcome.tools?.map((t) => t.name)).toEqual(['half\ufffd', 'nulname']);
    } finally {
      await server.close();
    }
  });
});
