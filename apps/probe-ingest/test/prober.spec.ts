import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startMcpServer, type TestMcpServer } from '@tocsin/testing';
import { probeHttpService } from '../src/probing/http-probe';
import { ProberService } from '../src/probing/prober.service';

describe('probing real servers', () => {
  let http: Server;
  let httpBase: string;
  let mcp: TestMcpServer;
  const prober = new ProberService({ TOCSIN_ALLOW_PRIVATE_URLS: true });

  beforeAll(async () => {
    http = createServer((req, res) => res.writeHead(req.url === '/down' ? 503 : 200).end('ok'));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    httpBase = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    mcp = await startMcpServer();
  });

  afterAll(async () => {
    http.closeAllConnections();
    await new Promise((resolve) => http.close(resolve));
    await mcp.close();
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

  it('an MCP monitor reports the tools hash when healthy and the layer when not', async () => {
    const monitor = { kind: 'mcp' as const, url: mcp.url, timeout_ms: 2000, headers: {} };
    const healthy = await prober.probe(monitor);
    expect(healthy).toMatchObject({ ok: true });
    expect(healthy.tools_hash).toMatch(/^[0-9a-f]{64}$/);
    mcp.setMode('tools_list_error');
    await expect(prober.probe(monitor)).resolves.toMatchObject({ ok: false, failure_layer: 'tools_list' });
    mcp.setMode('ok');
  });

  it('refuses private targets unless private URLs are allowed', async () => {
    const guarded = new ProberService({ TOCSIN_ALLOW_PRIVATE_URLS: false });
    const monitor = { kind: 'mcp' as const, url: mcp.url, timeout_ms: 2000, headers: {} };
    await expect(guarded.probe(monitor)).resolves.toMatchObject({ ok: false, failure_layer: 'transport', error: expect.stringMatching(/refused/) });
    const byName = await guarded.probe({ ...monitor, kind: 'http', url: `http://localhost:${mcp.port}/` });
    expect(byName).toMatchObject({ ok: false, failure_layer: 'transport' });
    await guarded.onApplicationShutdown();
  });
});
