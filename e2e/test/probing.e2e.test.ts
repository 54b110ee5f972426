import { Client } from 'pg';
import { z } from 'zod';
import { MONITOR_EVENTS, type ProbeResult, type SchemaDriftDetectedData } from '@tocsin/contracts';
import {
  startMcpServer,
  startStatelessMcpServer,
  TEST_OAUTH_TOKEN,
  waitFor,
  type StatelessMcpServerMode,
  type StatelessTestMcpServer,
  type TestMcpServer,
  type TestMcpServerMode,
} from '@tocsin/testing';
import { ApiClient, ProbeResultTap, startStack, type Stack } from '../src';

interface Status {
  status: string;
  generation: string | null;
  protocol_version: string | null;
  tools_count: number | null;
}

/**
 * Active probing through the real stack: probe-ingest probes servers of both MCP generations,
 * publishes ProbeResults to Kafka, remembers each server's generation on its monitor, and
 * the status route shows it.
 */
describe('active probing of both MCP generations', () => {
  let stack: Stack;
  let api: ApiClient;
  let tap: ProbeResultTap;
  let handshake: TestMcpServer;
  let legacySse: TestMcpServer;
  let stateless: StatelessTestMcpServer;
  const ids: Record<string, string> = {};

  const createMonitor = async (slug: string, url: string, extra: Record<string, unknown> = {}) => {
    const res = await api.post<{ id: string }>('/v1/monitors', { slug, name: slug, url, interval_seconds: 1, timeout_ms: 1500, ...extra });
    expect(res.status).toBe(201);
    ids[slug] = res.body.id;
    return res.body;
  };

  beforeAll(async () => {
    [stack, handshake, legacySse, stateless] = await Promise.all([
      startStack(['api', 'probe-ingest', 'severity-router']),
      startMcpServer(),
      startMcpServer({ transport: 'sse' }),
      startStatelessMcpServer(),
    ]);
    ({ client: api } = await ApiClient.tenant(stack.apiUrl, 'acme'));
    tap = await ProbeResultTap.start(stack.config);
    await createMonitor('handshake', handshake.url);
    await createMonitor('legacy-sse', legacySse.url);
    await createMonitor('stateless', stateless.url, { headers: { authorization: 'Bearer t0ken-never-shown' } });
  });

  afterAll(async () => {
    await tap?.stop();
    await stack?.close();
    await Promise.all([handshake?.close(), legacySse?.close(), stateless?.close()]);
  });

  const statusOf = async (slug: string) => (await api.get<Status>(`/v1/monitors/${ids[slug]}/status`)).body;

  it.each([
    ['handshake', 'handshake', '2025-11-25'],
    ['legacy-sse', 'handshake', '2024-11-05'],
    ['stateless', 'stateless', '2026-07-28'],
  ])('shows %s up with its generation, protocol version and tool count', async (slug, generation, version) => {
    const status = await waitFor(
      async () => {
        const s = await statusOf(slug);
        return s.status === 'up' && s.generation !== 'unknown' && s;
      },
      { description: `${slug} up with a generation` },
    );
    expect(status).toMatchObject({ generation, tools_count: 2 });
    // The legacy transport's server answers with the newest version it knows; both are handshake era.
    if (slug !== 'legacy-sse') expect(status.protocol_version).toBe(version);
    const result = tap.of(ids[slug]!).find((r) => r.ok);
    expect(result).toMatchObject({ ok: true, source: 'active', tools_hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(result?.tools).toEqual([
      { name: 'add', hash: expect.stringMatching(/^[0-9a-f]{64}$/), params: { a: 'number!', b: 'number!' } },
      { name: 'echo', hash: expect.stringMatching(/^[0-9a-f]{64}$/), params: { text: 'string!' } },
    ]);
  });

  it('sends sealed headers to the server but never shows or stores them in the clear', async () => {
    expect(stateless.lastHeaders?.authorization).toBe('Bearer t0ken-never-shown');
    const shown = await api.get(`/v1/monitors/${ids['stateless']}`);
    expect(JSON.stringify(shown.body)).not.toContain('t0ken');
    expect(shown.body).toMatchObject({ header_names: ['authorization'] });
    const listed = await api.get('/v1/monitors');
    expect(JSON.stringify(listed.body)).not.toContain('t0ken');
    const db = new Client({ connectionString: stack.database.url });
    await db.connect();
    try {
      const { rows } = await db.query('SELECT headers, sealed_headers FROM monitors WHERE id = $1', [ids['stateless']]);
      expect(rows[0].sealed_headers).toMatch(/^enc:v2:/);
      expect(JSON.stringify(rows[0])).not.toContain('t0ken');
    } finally {
      await db.end();
    }
  });

  describe.each([
    { generation: 'handshake', slug: 'handshake' },
    { generation: 'stateless', slug: 'stateless' },
  ])('each failure layer of a $generation server', ({ generation, slug }) => {
    const server = (): TestMcpServer | StatelessTestMcpServer => (generation === 'stateless' ? stateless : handshake);
    const setMode = (handshakeMode: TestMcpServerMode, statelessMode: StatelessMcpServerMode) =>
      generation === 'stateless' ? stateless.setMode(statelessMode) : handshake.setMode(handshakeMode);

    afterEach(async () => {
      setMode('ok', 'ok');
      await server().start();
    });

    const expectResult = async (expected: Partial<ProbeResult>, description: string) => {
      const since = Date.now();
      return tap.next(ids[slug]!, since, (r) => !r.ok && r.failure_layer === expected.failure_layer, description);
    };

    it('port closed → transport', async () => {
      await server().stop();
      const r = await expectResult({ failure_layer: 'transport' }, 'transport failure');
      expect(r.error).toContain('ECONNREFUSED');
    });

    it.each([
      ['HTTP 500 → http', 'http_500', 'http_500', 'http', 500],
      ['HTTP 401 → http', 'http_401', 'http_401', 'http', 401],
      ['JSON-RPC error → initialize', 'initialize_error', 'discover_error', 'initialize', undefined],
      ['garbage → initialize', 'garbage', 'garbage', 'initialize', undefined],
      ['unsupported version → initialize', 'unsupported_version', 'unsupported_version', 'initialize', undefined],
      ['tools/list error → tools_list', 'tools_list_error', 'tools_list_error', 'tools_list', undefined],
      ['tools/list hangs → tools_list, cut at the timeout', 'tools_list_hang', 'tools_list_hang', 'tools_list', undefined],
    ] as const)('%s', async (_name, handshakeMode, statelessMode, layer, httpStatus) => {
      setMode(handshakeMode, statelessMode);
      const r = await expectResult({ failure_layer: layer }, `${layer} failure`);
      if (httpStatus !== undefined) expect(r.http_status).toBe(httpStatus);
      if (handshakeMode === 'tools_list_hang') {
        expect(r.error).toMatch(/timed out after 1500 ms/);
        expect(r.latency_ms).toBeLessThan(2_500);
      }
    });

    it('a server that never answers → transport, cut at the timeout', async () => {
      setMode('hang', 'hang');
      const r = await expectResult({ failure_layer: 'transport' }, 'hang cut at the timeout');
      expect(r.error).toMatch(/timed out after 1500 ms/);
    });
  });

  describe('probe truth', () => {
    const servers: Array<{ close(): Promise<void> }> = [];
    afterAll(() => Promise.all(servers.map((s) => s.close())));

    it('calls an OAuth-protected server (401 with a Bearer challenge) up and protected, not an outage, and probes past it with a token', async () => {
      const [gated, gatedStateless] = await Promise.all([startMcpServer({ auth: 'oauth' }), startStatelessMcpServer({ auth: 'oauth' })]);
      servers.push(gated, gatedStateless);
      await createMonitor('gated', gated.url);
      await createMonitor('gated-stateless', gatedStateless.url);
      await createMonitor('gated-token', gated.url, { headers: { authorization: `Bearer ${TEST_OAUTH_TOKEN}` } });
      for (const slug of ['gated', 'gated-stateless']) {
        const result = await tap.next(ids[slug]!, 0, () => true, `${slug}'s first result`);
        expect(result).toMatchObject({ ok: true, auth: 'protected', http_status: 401 });
        expect(result.failure_layer).toBeUndefined();
        await waitFor(async () => (await statusOf(slug)).status === 'up', { description: `${slug} up` });
      }
      const past = await tap.next(ids['gated-token']!, 0, (r) => r.ok, 'a probe past the gate');
      expect(past.auth).toBeUndefined();
      expect(past.tools).toHaveLength(2);
      const incidents = await api.get<{ data: Array<{ monitor_id: string }> }>('/v1/incidents');
      expect(incidents.body.data.filter((i) => [ids['gated'], ids['gated-stateless']].includes(i.monitor_id))).toEqual([]);
    });

    it("judges a real server's tool changes: additive ones are P3, a removed tool or a newly required parameter P2, and the alert says which", async () => {
      const search = (limit: z.ZodType) => ({ name: 'search', description: 'Finds things.', inputSchema: { q: z.string(), limit } });
      const fetchTool = { name: 'fetch', inputSchema: { id: z.string() } };
      const server = await startMcpServer({ tools: [search(z.number().optional()), fetchTool] });
      servers.push(server);
      await createMonitor('drifting-tools', server.url);
      const baseline = await tap.next(ids['drifting-tools']!, 0, (r) => r.ok && r.tools_hash !== undefined, 'a baseline tools/list');
      expect(baseline.tools?.find((t) => t.name === 'search')).toMatchObject({ params: { q: 'string!', limit: 'number' } });

      const db = new Client({ connectionString: stack.database.url });
      await db.connect();
      const drifts = async (n: number) =>
        waitFor(
          async () => {
            const { rows } = await db.query<{ data: SchemaDriftDetectedData }>(
              `SELECT data FROM events WHERE type = $1 AND metadata->>'monitor_id' = $2 ORDER BY position`,
              [MONITOR_EVENTS.SchemaDriftDetected.type, ids['drifting-tools']],
            );
            return rows.length >= n && rows.map((r) => r.data);
          },
          { description: `${n} drift event(s)` },
        );
      try {
        // An optional parameter added: callers that worked still work.
        server.setTools([{ ...search(z.number().optional()), inputSchema: { q: z.string(), limit: z.number().optional(), lang: z.string().optional() } }, fetchTool]);
        const [additive] = await drifts(1);
        expect(additive).toMatchObject({ severity: 'P3', impact: 'additive', breaking: [], changed: ['search'], added: [], removed: [] });
        // The optional parameter now required, and a tool gone.
        server.setTools([search(z.number())]);
        const [, breaking] = await drifts(2);
        expect(breaking).toMatchObject({ severity: 'P2', impact: 'breaking', removed: ['fetch'], changed: ['search'] });
        expect(breaking!.breaking).toEqual(['fetch: removed', 'search.lang: removed', 'search.limit: now required']);
      } finally {
        await db.end();
      }
    });

    it('calls a new stateless server whose server/discover answers a JSON-RPC error an initialize failure, though initialize got a 400', async () => {
      const broken = await startStatelessMcpServer();
      servers.push(broken);
      broken.setMode('discover_error');
      await createMonitor('discover-broken', broken.url);
      const result = await tap.next(ids['discover-broken']!, 0, () => true, 'its first result');
      expect(result).toMatchObject({ ok: false, failure_layer: 'initialize' });
      expect(result.error).toContain('discover');
    });
  });
});
