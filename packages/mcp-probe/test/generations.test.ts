import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  startMcpServer,
  startStatelessMcpServer,
  type StatelessMcpServerMode,
  type StatelessTestMcpServer,
  type StatelessTestTool,
  type TestMcpServerMode,
} from '@tocsin/testing';
import { z } from 'zod';
import { probeMcpServer, type McpFailureLayer, type McpGeneration, type McpProbeOutcome } from '../src';

const TIMEOUT_MS = 5_000;
const HANG_TIMEOUT_MS = 600;

/** One fault, as each generation's test server spells it, and what a probe must report. */
interface Fault {
  name: string;
  handshake: TestMcpServerMode;
  stateless: StatelessMcpServerMode;
  layer: McpFailureLayer;
  http_status?: number;
  timeoutMs?: number;
  error: RegExp;
}

const FAULTS: Fault[] = [
  { name: 'HTTP 500', handshake: 'http_500', stateless: 'http_500', layer: 'http', http_status: 500, error: /HTTP 500/ },
  // Without a WWW-Authenticate challenge a 401 is no OAuth gate, and a 403 never is (oauth.test.ts).
  { name: 'HTTP 401 without a challenge', handshake: 'http_401', stateless: 'http_401', layer: 'http', http_status: 401, error: /HTTP 401/ },
  { name: 'HTTP 403 with a Bearer challenge', handshake: 'http_403', stateless: 'http_403', layer: 'http', http_status: 403, error: /HTTP 403/ },
  { name: 'a JSON-RPC error', handshake: 'initialize_error', stateless: 'discover_error', layer: 'initialize', error: /JSON-RPC|Unsupported/ },
  { name: 'garbage', handshake: 'garbage', stateless: 'garbage', layer: 'initialize', error: /./ },
  {
    name: 'an unsupported protocol version',
    handshake: 'unsupported_version',
    stateless: 'unsupported_version',
    layer: 'initialize',
    error: /(not supported|no common protocol version|Unsupported protocol version).*(1999-01-01|2099-01-01)|(1999-01-01|2099-01-01)/,
  },
  { name: 'a tools/list error', handshake: 'tools_list_error', stateless: 'tools_list_error', layer: 'tools_list', error: /tools\/list/ },
  {
    name: 'a tools/list that hangs',
    handshake: 'tools_list_hang',
    stateless: 'tools_list_hang',
    layer: 'tools_list',
    timeoutMs: HANG_TIMEOUT_MS,
    error: new RegExp(`timed out after ${HANG_TIMEOUT_MS} ms waiting for tools/list`),
  },
  {
    name: 'a server that never answers',
    handshake: 'hang',
    stateless: 'hang',
    layer: 'transport',
    timeoutMs: HANG_TIMEOUT_MS,
    error: /timed out after 600 ms .*no HTTP response/,
  },
];

interface Subject {
  url: string;
  setMode(mode: string): void;
  setTools(tools: StatelessTestTool[]): void;
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

const GENERATIONS: Array<{
  generation: Exclude<McpGeneration, 'unknown'>;
  version: string;
  start: (pageSize?: number) => Promise<Subject>;
  mode: (fault: Fault) => string;
}> = [
  {
    generation: 'handshake',
    version: '2025-11-25',
    start: async (pageSize) => (await startMcpServer(pageSize ? { pageSize } : {})) as unknown as Subject,
    mode: (fault) => fault.handshake,
  },
  {
    generation: 'stateless',
    version: '2026-07-28',
    start: async (pageSize) => (await startStatelessMcpServer(pageSize ? { pageSize } : {})) as unknown as Subject,
    mode: (fault) => fault.stateless,
  },
];

describe.each(GENERATIONS)('a $generation-generation server', ({ generation, version, start, mode }) => {
  let server: Subject;

  beforeAll(async () => {
    server = await start();
  });

  afterEach(async () => {
    server.setMode('ok');
    await server.start();
  });

  afterAll(async () => {
    await server.close();
  });

  it('is probed healthy and its generation detected without a hint', async () => {
    const outcome = await probeMcpServer(server.url, { timeoutMs: TIMEOUT_MS });

    expect(outcome).toMatchObject({ ok: true, generation, protocol_version: version });
    expect(outcome.tools?.map((t) => t.name)).toEqual(['add', 'echo']);
    expect(outcome.tools_hash).toMatch(/^[0-9a-f]{64}$/);
    if (generation === 'stateless') {
      expect(outcome.tools_ttl_ms).toBe(0);
      // Handshake first (initialize, and the legacy SSE fallback its 400 invites), then discovery.
      expect(outcome.steps[0]?.step).toBe('initialize');
      expect(outcome.steps.slice(-2).map((s) => s.step)).toEqual(['discover', 'tools/list']);
    }
  });

  it('is probed in one attempt once its generation is remembered', async () => {
    const outcome = await probeMcpServer(server.url, { timeoutMs: TIMEOUT_MS, generation });

    expect(outcome).toMatchObject({ ok: true, generation });
    const expected = generation === 'stateless' ? ['discover', 'tools/list'] : ['initialize', 'initialized', 'tools/list'];
    expect(outcome.steps.map((s) => s.step)).toEqual(expected);
  });

  it('reports a closed port as transport', async () => {
    await server.stop();

    const outcome = await probeMcpServer(server.url, { timeoutMs: TIMEOUT_MS, generation });

    expect(outcome).toMatchObject({ ok: false, failure_layer: 'transport' });
    expect(outcome.error).toContain('ECONNREFUSED');
  });

  it.each(FAULTS)('reports $name as $layer', async (fault) => {
    server.setMode(mode(fault));

    const outcome: McpProbeOutcome = await probeMcpServer(server.url, {
      timeoutMs: fault.timeoutMs ?? TIMEOUT_MS,
      generation,
    });

    expect(outcome).toMatchObject({ ok: false, failure_layer: fault.layer });
    expect(outcome.auth).toBeUndefined();
    if (fault.http_status !== undefined) expect(outcome.http_status).toBe(fault.http_status);
    expect(outcome.error).toMatch(fault.error);
    if (fault.timeoutMs !== undefined) expect(outcome.latency_ms).toBeLessThan(fault.timeoutMs + 500);
  });

  it('reads every tools/list page', async () => {
    const paged = await start(1);
    try {
      const outcome = await probeMcpServer(paged.url, { timeoutMs: TIMEOUT_MS, generation });
      expect(outcome.ok).toBe(true);
      expect(outcome.tools?.map((t) => t.name)).toEqual(['add', 'echo']);
      expect(outcome.steps.filter((s) => s.step === 'tools/list')).toHaveLength(2);
    } finally {
      await paged.close();
    }
  });

  it('changes the hashes of exactly the changed tools; reordering changes nothing', async () => {
    const tools: StatelessTestTool[] = [
      { name: 'search', description: 'Search.', inputSchema: { q: z.string(), limit: z.number() } },
      { name: 'fetch', description: 'Fetch.', inputSchema: { id: z.string() } },
      { name: 'ping' },
    ];
    server.setTools(tools);
    const before = await probeMcpServer(server.url, { timeoutMs: TIMEOUT_MS, generation });
    server.setTools([...tools].reverse());
    const reordered = await probeMcpServer(server.url, { timeoutMs: TIMEOUT_MS, generation });
    server.setTools([{ ...tools[0]!, description: 'Search, fuzzier.' }, tools[1]!, { name: 'pong' }]);
    const changed = await probeMcpServer(server.url, { timeoutMs: TIMEOUT_MS, generation });
    server.setTools([
      { name: 'echo', description: 'Echoes its input.', inputSchema: { text: z.string() } },
      { name: 'add', description: 'Adds two numbers.', inputSchema: { a: z.number(), b: z.number() } },
    ]);

    expect(reordered.tools).toEqual(before.tools);
    expect(reordered.tools_hash).toBe(before.tools_hash);
    const hashOf = (o: McpProbeOutcome, name: string) => o.tools?.find((t) => t.name === name)?.hash;
    expect(changed.tools_hash).not.toBe(before.tools_hash);
    expect(hashOf(changed, 'fetch')).toBe(hashOf(before, 'fetch'));
    expect(hashOf(changed, 'search')).not.toBe(hashOf(before, 'search'));
    expect(changed.tools?.map((t) => t.name)).toEqual(['fetch', 'pong', 'search']);
  });
});

describe('a stateless server answering over SSE', () => {
  it('is read from the event stream', async () => {
    const server = await startStatelessMcpServer({ replies: 'sse' });
    try {
      const outcome = await probeMcpServer(server.url, { timeoutMs: TIMEOUT_MS, generation: 'stateless' });
      expect(outcome).toMatchObject({ ok: true, generation: 'stateless' });
      expect(outcome.steps[0]?.content_type).toContain('text/event-stream');
    } finally {
      await server.close();
    }
  });
});

describe('a stateless server whose server/discover answers a JSON-RPC error', () => {
  let server: StatelessTestMcpServer;

  beforeAll(async () => {
    server = await startStatelessMcpServer();
    server.setMode('discover_error');
  });

  afterAll(async () => {
    await server.close();
  });

  // Whichever generation goes first, the SDK refuses the handshake-era initialize with HTTP 400;
  // that refusal must not stand for the server, which answered discovery in JSON-RPC.
  it.each([['none', undefined], ['handshake', 'handshake'], ['stateless', 'stateless']] as const)(
    'is an initialize failure, not the 400 to initialize (remembered generation: %s)',
    async (_, generation) => {
      const outcome = await probeMcpServer(server.url, { timeoutMs: TIMEOUT_MS, ...(generation ? { generation } : {}) });

      expect(outcome).toMatchObject({ ok: false, failure_layer: 'initialize', http_status: 200 });
      expect(outcome.error).toBe('discover failed: JSON-RPC -32603: discovery failed (simulated)');
      expect(outcome.steps).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ step: 'initialize', http_status: 400 }),
          expect.objectContaining({ step: 'discover', http_status: 200, jsonrpc_code: -32603 }),
        ]),
      );
    },
  );
});

describe('a handshake-era server remembered as stateless whose initialize fails', () => {
  it('is reported by its initialize error, not by the session error it gives discover', async () => {
    const server = await startMcpServer();
    server.setMode('initialize_error');
    try {
      const outcome = await probeMcpServer(server.url, { timeoutMs: TIMEOUT_MS, generation: 'stateless' });

      expect(outcome).toMatchObject({ ok: false, failure_layer: 'initialize', http_status: 200 });
      expect(outcome.error).toContain('Unsupported protocol version (simulated)');
      // A session-less request is refused with 400 and a JSON-RPC error whose id is null: not an answer to discover.
      expect(outcome.steps[0]).toMatchObject({ step: 'discover', http_status: 400, jsonrpc_code: -32600 });
    } finally {
      await server.close();
    }
  });
});

describe('a server that turns both generations away with a bare HTTP 400', () => {
  it('stays an http failure', async () => {
    const server = createServer((req, res) => {
      req.resume();
      res.writeHead(400, { 'content-type': 'text/plain' }).end('bad request');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
      for (const generation of ['handshake', 'stateless'] as const) {
        const outcome = await probeMcpServer(url, { timeoutMs: TIMEOUT_MS, generation });
        expect(outcome).toMatchObject({ ok: false, failure_layer: 'http', http_status: 400 });
      }
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
