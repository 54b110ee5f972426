import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startMcpServer, startStatelessMcpServer, TEST_OAUTH_TOKEN } from '../src';

const INITIALIZE = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'oauth-gate-test', version: '0.0.0' } },
};

function post(url: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
    body: JSON.stringify(INITIALIZE),
  });
}

// Past the gate the handshake server initializes; the stateless one refuses initialize itself (400).
describe.each([
  ['startMcpServer', () => startMcpServer({ auth: 'oauth' }), 200],
  ['startStatelessMcpServer', () => startStatelessMcpServer({ auth: 'oauth' }), 400],
])("%s({ auth: 'oauth' })", (_, start, statusPastGate) => {
  let server: Awaited<ReturnType<typeof start>>;

  beforeAll(async () => {
    server = await start();
  });

  afterAll(async () => {
    await server.close();
  });

  it('answers a request without a token with 401 and the SDK Bearer challenge naming its metadata', async () => {
    const res = await post(server.url);

    expect(res.status).toBe(401);
    const challenge = res.headers.get('www-authenticate') ?? '';
    expect(challenge).toMatch(/^Bearer /);
    expect(challenge).toContain(`resource_metadata="http://127.0.0.1:${server.port}/.well-known/oauth-protected-resource/mcp"`);
    expect(await res.json()).toMatchObject({ error: 'invalid_token' });
  });

  it('refuses a wrong token the same way', async () => {
    const res = await post(server.url, { authorization: 'Bearer not-the-token' });

    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });

  it('lets the right token through to the MCP server', async () => {
    const res = await post(server.url, { authorization: `Bearer ${TEST_OAUTH_TOKEN}` });

    expect(res.status).toBe(statusPastGate);
    expect(res.headers.get('www-authenticate')).toBeNull();
    await res.body?.cancel();
  });
});

describe('the HTTP refusal modes', () => {
  it('http_401 has no challenge, http_403 has a Bearer insufficient_scope one', async () => {
    const server = await startMcpServer();
    try {
      server.setMode('http_401');
      const bare = await post(server.url);
      expect(bare.status).toBe(401);
      expect(bare.headers.get('www-authenticate')).toBeNull();
      await bare.body?.cancel();

      server.setMode('http_403');
      const forbidden = await post(server.url);
      expect(forbidden.status).toBe(403);
      expect(forbidden.headers.get('www-authenticate')).toContain('Bearer error="insufficient_scope"');
      await forbidden.body?.cancel();
    } finally {
      await server.close();
    }
  });
});

describe("a handshake-era server with auth: 'oauth'", () => {
  it('serves the SDK client that sends the token', async () => {
    const server = await startMcpServer({ auth: 'oauth' });
    const transport = new StreamableHTTPClientTransport(new URL(server.url), {
      requestInit: { headers: { authorization: `Bearer ${TEST_OAUTH_TOKEN}` } },
    });
    const client = new Client({ name: 'oauth-gate-test', version: '0.0.0' });
    try {
      await client.connect(transport);
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toEqual(['echo', 'add']);
      await transport.terminateSession();
      expect(server.sessionCount).toBe(0);
    } finally {
      await client.close();
      await server.close();
    }
  });
});
