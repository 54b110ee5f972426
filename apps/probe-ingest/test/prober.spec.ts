import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateEncryptionKey, sealedIn, SecretBox } from '@tocsin/secrets';
import {
  startMcpServer,
  startStatelessMcpServer,
  TEST_OAUTH_TOKEN,
  type StatelessTestMcpServer,
  type TestMcpServer,
} from '@tocsin/testing';
import { probeHttpService } from '../src/probing/http-probe';
import { ProberService } from '../src/probing/prober.service';
import { nextSlotAfter, phaseMs, slotIndex } from '../src/scheduling/phase';

describe('probing real servers', () => {
  let http: Server;
  let httpBase: string;
  let seen: IncomingHttpHeaders[];
  let mcp: TestMcpServer;
  let stateless: StatelessTestMcpServer;
  const box = SecretBox.fromEnv(generateEncryptionKey());
  const prober = new ProberService({ TOCSIN_ALLOW_PRIVATE_URLS: true }, box);
  const mcpMonitor = (url: string) => ({
    id: randomUUID(),
    kind: 'mcp' as const,
    url,
    timeout_ms: 2000,
    headers: {},
    sealed_headers: null,
    expected_status: null,
    mcp_generation: null,
  });

  beforeAll(async () => {
    seen = [];
    http = createServer((req, res) => {
      seen.push(req.headers);
      res.writeHead(req.url === '/down' ? 503 : req.url === '/moved' ? 301 : 200).end('ok');
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    httpBase = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    mcp = await startMcpServer();
    stateless = await startStatelessMcpServer();
  });

  afterAll(async () => {
    http.closeAllConnections();
    await new Promise((resolve) => http.close(resolve));
    await mcp.close();
    await stateless.close();
  });

  it('an HTTP service: 2xx is up, 5xx is an http failure, a refused port a transport failure', async () => {
    await expect(probeHttpService(`${httpBase}/`, { timeoutMs: 1000 })).resolves.toMatchObject({ ok: true, http_status: 200 });
    await expect(probeHttpService(`${httpBase}/down`, { timeoutMs: 1000 })).resolves.toMatchObject({
      ok: false,
      failure_layer: 'http',
      http_status: 503,
    });
    const port = mcp.port;
    await mcp.stop();
    await expect(probeHttpService(`http://127.0.0.1:${port}/`, { timeoutMs: 1000 })).resolves.toMatchObject({
      ok: false,
      failure_layer: 'transport',
    });
    await mcp.start();
  });

  it('an HTTP check with an expected status is up on that status only', async () => {
    const check = { ...mcpMonitor(`${httpBase}/moved`), kind: 'http' as const, expected_status: 301 };
    await expect(prober.probe(check)).resolves.toMatchObject({ outcome: { ok: true, http_status: 301 } });
    await expect(prober.probe({ ...check, url: `${httpBase}/` })).resolves.toMatchObject({
      outcome: { ok: false, failure_layer: 'http', http_status: 200, error: 'HTTP 200, expected 301' },
    });
  });

  it('opens sealed headers only to send them', async () => {
    const monitor = mcpMonitor(`${httpBase}/`);
    const check = { ...monitor, kind: 'http' as const, sealed_headers: box.sealJson({ authorization: 'Bearer s3cret' }, sealedIn.monitorHeaders(monitor.id)) };
    await expect(prober.probe(check)).resolves.toMatchObject({ outcome: { ok: true } });
    expect(seen.at(-1)?.authorization).toBe('Bearer s3cret');
    const otherKey = new ProberService({ TOCSIN_ALLOW_PRIVATE_URLS: true }, SecretBox.fromEnv(generateEncryptionKey()));
    await expect(otherKey.probe(check)).resolves.toBeUndefined();
  });

  it('an MCP monitor reports the tools and what it learned when healthy, and the layer when not', async () => {
    const monitor = mcpMonitor(mcp.url);
    const healthy = await prober.probe(monitor);
    expect(healthy?.outcome).toMatchObject({ ok: true });
    expect(healthy?.outcome.tools_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(healthy?.outcome.tools?.[0]).toEqual({ name: 'add', hash: expect.stringMatching(/^[0-9a-f]{64}$/), params: { a: 'number!', b: 'number!' } });
    expect(healthy?.learned).toEqual({ generation: 'handshake', protocolVersion: '2025-11-25', toolsCount: 2 });
    mcp.setMode('tools_list_error');
    await expect(prober.probe(monitor)).resolves.toMatchObject({ outcome: { ok: false, failure_layer: 'tools_list' } });
    mcp.setMode('ok');
  });

  it('learns that a server is stateless', async () => {
    const probed = await prober.probe(mcpMonitor(stateless.url));
    expect(probed?.learned).toEqual({ generation: 'stateless', protocolVersion: '2026-07-28', toolsCount: 2 });
  });

  it('reports an MCP server behind OAuth as up and protected, learns nothing, and sends a sealed token on', async () => {
    const gated = await startMcpServer({ auth: 'oauth' });
    try {
      const monitor = mcpMonitor(gated.url);
      const probed = await prober.probe(monitor);
      expect(probed?.outcome).toEqual({ ok: true, auth: 'protected', http_status: 401, latency_ms: expect.any(Number) });
      expect(probed?.learned).toBeUndefined();
      const token = box.sealJson({ authorization: `Bearer ${TEST_OAUTH_TOKEN}` }, sealedIn.monitorHeaders(monitor.id));
      const authorized = await prober.probe({ ...monitor, sealed_headers: token });
      expect(authorized?.outcome).toMatchObject({ ok: true, tools_hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
      expect(authorized?.outcome.auth).toBeUndefined();
    } finally {
      await gated.close();
    }
  });

  it('refuses private targets unless private URLs are allowed', async () => {
    const guarded = new ProberService({ TOCSIN_ALLOW_PRIVATE_URLS: false }, box);
    const monitor = mcpMonitor(mcp.url);
    await expect(guarded.probe(monitor)).resolves.toMatchObject({
      outcome: { ok: false, failure_layer: 'transport', error: expect.stringMatching(/refused/) },
    });
    const byName = await guarded.probe({ ...monitor, kind: 'http', url: `http://localhost:${mcp.port}/` });
    expect(byName?.outcome).toMatchObject({ ok: false, failure_layer: 'transport' });
    await guarded.onApplicationShutdown();
  });
});

describe('phase slots (jitter)', () => {
  it('spread 10,000 monitors of one interval across it', () => {
    const intervalMs = 60_000;
    const perSecond = new Array<number>(60).fill(0);
    for (let i = 0; i < 10_000; i++) perSecond[Math.floor(phaseMs(randomUUID(), intervalMs) / 1000)]! += 1;
    // An even spread is ~167 a second; no second may carry more than twice that.
    expect(Math.max(...perSecond)).toBeLessThan(334);
    expect(Math.min(...perSecond)).toBeGreaterThan(80);
  });

  it('books the next slot strictly after now, one slot per interval', () => {
    const phase = 1234;
    const next = nextSlotAfter(100_000, 10_000, phase);
    expect(next).toBe(101_234);
    expect(nextSlotAfter(next, 10_000, phase)).toBe(111_234);
    expect(slotIndex(next, 10_000, phase)).toBe(slotIndex(next + 9_999, 10_000, phase));
  });
});
