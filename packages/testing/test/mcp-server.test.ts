import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startMcpServer, type TestMcpServer } from '../src';

async function listToolNames(url: string): Promise<string[]> {
  const transport = new StreamableHTTPClientTransport(new URL(url));
  const client = new Client({ name: 'mcp-server-test', version: '0.0.0' });
  await client.connect(transport);
  try {
    const { tools } = await client.listTools();
    return tools.map((t) => t.name);
  } finally {
    await transport.terminateSession();
    await client.close();
  }
}

describe('startMcpServer', () => {
  let server: TestMcpServer;

  beforeEach(async () => {
    server = await startMcpServer();
  });

  afterEach(async () => {
    await server.close();
  });

  it('refuses connections after stop() and serves again on the same port after start()', async () => {
    const { port, url } = server;
    expect(url).toBe(`http://127.0.0.1:${port}/mcp`);
    expect(await listToolNames(url)).toEqual(['echo', 'add']);

    await server.stop();
    await expect(fetch(url, { method: 'POST' })).rejects.toThrow('fetch failed');

    await server.start();
    expect(server.port).toBe(port);
    expect(await listToolNames(url)).toEqual(['echo', 'add']);
  });

  it('serves concurrent sessions and ends each one on DELETE', async () => {
    server.setTools([{ name: 'only' }]);

    const results = await Promise.all([listToolNames(server.url), listToolNames(server.url)]);

    expect(results).toEqual([['only'], ['only']]);
    expect(server.sessionCount).toBe(0);
  });
});
