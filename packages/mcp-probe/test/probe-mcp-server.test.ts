import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { startMcpServer, type TestMcpServer, type TestMcpTool } from '@tocsin/testing';
import { z } from 'zod';
import { probeMcpServer, type McpProbeOutcome } from '../src';

const TIMEOUT_MS = 5_000;

const TOOLS: TestMcpTool[] = [
  { name: 'search', description: 'Full-text search.', inputSchema: { query: z.string(), limit: z.number() } },
  { name: 'fetch', description: 'Fetches a document.', inputSchema: { id: z.string() } },
  { name: 'ping' },
];

function stepNames(outcome: McpProbeOutcome): string[] {
  return outcome.steps.map((s) => s.step);
}

describe('probeMcpServer against the SDK streamable HTTP server', () => {
  let server: TestMcpServer;

  beforeAll(async () => {
    server = await startMcpServer({ tools: TOOLS });
  });

  afterEach(async () => {
    server.setMode('ok');
    server.setTools(TOOLS);
    await server.start();
  });

  afterAll(async () => {
    await server.close();
  });

  it('reports a healthy server with its tools, then ends its session', async () => {
    const outcome = await probeMcpServer(server.url, { timeoutMs: TIMEOUT_MS });

    expect(outcome).toMatchObject({
      ok: true,
      generation: 'handshake',
      transport: 'streamable-http',
      protocol_version: '2025-11-25',
      http_status: 200,
    });
    expect(outcome.failure_layer).toBeUndefined();
    expect(outcome.tools?.map((t) => t.name)).toEqual(['fetch', 'ping', 'search']);
    expect(outcome.tools?.[2]?.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(outcome.tools_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(stepNames(outcome)).toEqual(['initialize', 'initialized', 'tools/list']);
    expect(outcome.steps.map((s) => s.http_status)).toEqual([200, 202, 200]);
    expect(outcome.steps[0]?.content_type).toMatch(/^(text\/event-stream|application\/json)/);
    expect(server.sessionCount).toBe(0);
  });

  it('gives the same tools_hash for the same tools in another order, and a new one on drift', async () => {
    const first = await probeMcpServer(server.url, { timeoutMs: TIMEOUT_MS });
    server.setTools([...TOOLS].reverse());
    const reordered = await probeMcpServer(server.url, { timeoutMs: TIMEOUT_MS });
    server.setTools([...TOOLS, { name: 'delete', inputSchema: { id: z.string() } }]);
    const drifted = await probeMcpServer(server.url, { timeoutMs: TIMEOUT_MS });

    expect(first.tools_hash).toBeDefined();
    expect(reordered.tools_hash).toBe(first.tools_hash);
    expect(reordered.tools).toEqual(first.tools);
    expect(drifted.tools_hash).not.toBe(first.tools_hash);
  });

  it('classifies a stopped server as transport', async () => {
    await server.stop();

    const outcome = await probeMcpServer(server.url, { timeoutMs: TIMEOUT_MS });

    expect(outcome).toMatchObject({ ok: false, failure_layer: 'transport', generation: 'unknown' });
    expect(outcome.error).toContain('ECONNREFUSED');
    expect(outcome.http_status).toBeUndefined();
    expect(stepNames(outcome)).toEqual(['initialize']);
    expect(outcome.steps[0]?.http_status).toBeUndefined();
  });

  it('classifies HTTP 500 as http with the status', async () => {
    server.setMode('http_500');

    const outcome = await probeMcpServer(server.url, { timeoutMs: TIMEOUT_MS });

    expect(outcome).toMatchObject({ ok: false, failure_layer: 'http', http_status: 500 });
    expect(outcome.error).toContain('HTTP 500 on initialize');
    expect(outcome.steps).toEqual([expect.objectContaining({ step: 'initialize', http_status: 500 })]);
  });

  it('classifies a JSON-RPC error to initialize as initialize and ends the session', async () => {
    server.setMode('initialize_error');

    const outcome = await probeMcpServer(server.url, { timeoutMs: TIMEOUT_MS });

    expect(outcome).toMatchObject({ ok: false, failure_layer: 'initialize', http_status: 200 });
    // The other generation is tried too (a stateless server would answer discover); this one is not.
    expect(outcome.steps).toEqual([
      expect.objectContaining({ step: 'initialize', http_status: 200, jsonrpc_code: -32602 }),
      expect.objectContaining({ step: 'discover', http_status: 400 }),
    ]);
    expect(outcome.generation).toBe('unknown');
    expect(outcome.error).toContain('Unsupported protocol version');
    expect(server.sessionCount).toBe(0);
  });

  it('classifies a failing tools/list as tools_list', async () => {
    server.setMode('tools_list_error');

    const outcome = await probeMcpServer(server.url, { timeoutMs: TIMEOUT_MS });

    expect(outcome).toMatchObject({
      ok: false,
      failure_layer: 'tools_list',
      generation: 'handshake',
      protocol_version: '2025-11-25',
    });
    expect(outcome.steps.at(-1)).toMatchObject({ step: 'tools/list', http_status: 200, jsonrpc_code: -32603 });
    expect(outcome.tools_hash).toBeUndefined();
  });

  it('rejects when the caller cancels the probe', async () => {
    const controller = new AbortController();
    controller.abort(new Error('shutting down'));

    await expect(
      probeMcpServer(server.url, { timeoutMs: TIMEOUT_MS, signal: controller.signal }),
    ).rejects.toThrow('shutting down');
  });

  it('sends the configured headers', async () => {
    const outcome = await probeMcpServer(server.url, {
      timeoutMs: TIMEOUT_MS,
      headers: { authorization: 'Bearer test-token' },
    });

    expect(outcome.ok).toBe(true);
  });
});

describe('probeMcpServer against a legacy HTTP+SSE server', () => {
  let server: TestMcpServer;

  beforeAll(async () => {
    server = await startMcpServer({ tools: TOOLS, transport: 'sse' });
  });

  afterAll(async () => {
    await server.close();
  });

  it('falls back to the SSE transport after the streamable POST is refused', async () => {
    const outcome = await probeMcpServer(server.url, { timeoutMs: TIMEOUT_MS });

    expect(outcome).toMatchObject({ ok: true, transport: 'sse', generation: 'handshake' });
    expect(stepNames(outcome)).toEqual(['initialize', 'sse-connect', 'initialize', 'initialized', 'tools/list']);
    expect(outcome.steps[0]?.http_status).toBe(405);
    expect(outcome.steps[1]).toMatchObject({ http_status: 200, content_type: expect.stringContaining('text/event-stream') });
    expect(outcome.tools?.map((t) => t.name)).toEqual(['fetch', 'ping', 'search']);
  });

  it('hashes the same tools the same way as over streamable HTTP', async () => {
    const streamable = await startMcpServer({ tools: TOOLS });
    try {
      const [viaSse, viaStreamable] = await Promise.all([
        probeMcpServer(server.url, { timeoutMs: TIMEOUT_MS }),
        probeMcpServer(streamable.url, { timeoutMs: TIMEOUT_MS }),
      ]);
      expect(viaSse.tools_hash).toBe(viaStreamable.tools_hash);
    } finally {
      await streamable.close();
    }
  });
});

describe('probeMcpServer against a server that accepts TCP but never answers', () => {
  let silent: Server;
  const sockets = new Set<Socket>();

  beforeAll(async () => {
    silent = createServer((socket) => {
      sockets.add(socket);
      // Read and drop the request, never answer; reading is what lets it see the client's FIN.
      socket.resume();
      socket.on('close', () => sockets.delete(socket));
    });
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
  });

  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  });

  it('classifies the timeout as transport and releases the connection', async () => {
    const { port } = silent.address() as AddressInfo;
    const timeoutMs = 300;

    const outcome = await probeMcpServer(`http://127.0.0.1:${port}/mcp`, { timeoutMs });

    expect(outcome).toMatchObject({ ok: false, failure_layer: 'transport' });
    expect(outcome.error).toContain(`timed out after ${timeoutMs} ms`);
    expect(outcome.latency_ms).toBeGreaterThanOrEqual(timeoutMs - 5);
    expect(outcome.steps).toEqual([expect.objectContaining({ step: 'initialize', error: 'timed out' })]);
    expect(outcome.steps[0]?.http_status).toBeUndefined();
    await waitFor(() => sockets.size === 0);
  });
});

/** Polls a condition that the event loop will make true shortly (no fixed sleeps). */
async function waitFor(condition: () => boolean, timeoutMs = 2_000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error('condition not met in time');
    await new Promise((resolve) => setImmediate(resolve));
  }
}
