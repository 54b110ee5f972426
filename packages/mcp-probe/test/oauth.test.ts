import { startMcpServer, startStatelessMcpServer, TEST_OAUTH_TOKEN } from '@tocsin/testing';
import { probeMcpServer, type McpGeneration, type McpProbeStepName, type McpTransportKind } from '../src';
import { isBearerChallenge } from '../src/auth-challenge';

const TIMEOUT_MS = 5_000;

interface Subject {
  url: string;
  close(): Promise<void>;
}

/** Each server behind the SDK's Bearer gate, and the steps a probe without a token takes to meet it. */
const PROTECTED: Array<{
  name: string;
  start: () => Promise<Subject>;
  generation: Exclude<McpGeneration, 'unknown'>;
  transport: McpTransportKind;
  /** Without a remembered generation: the handshake era first. */
  steps: Array<[McpProbeStepName, number]>;
  /** With the server's own generation remembered. */
  rememberedSteps: Array<[McpProbeStepName, number]>;
}> = [
  {
    name: 'a handshake-era streamable HTTP server',
    start: () => startMcpServer({ auth: 'oauth' }),
    generation: 'handshake',
    transport: 'streamable-http',
    steps: [['initialize', 401]],
    rememberedSteps: [['initialize', 401]],
  },
  {
    // Its routes alone are behind the gate: the streamable POST is refused before auth.
    name: 'a legacy HTTP+SSE server',
    start: () => startMcpServer({ auth: 'oauth', transport: 'sse' }),
    generation: 'handshake',
    transport: 'sse',
    steps: [
      ['initialize', 405],
      ['sse-connect', 401],
    ],
    rememberedSteps: [
      ['initialize', 405],
      ['sse-connect', 401],
    ],
  },
  {
    name: 'a stateless (2026-07-28) server',
    start: () => startStatelessMcpServer({ auth: 'oauth' }),
    generation: 'stateless',
    transport: 'streamable-http',
    steps: [['initialize', 401]],
    rememberedSteps: [['discover', 401]],
  },
];

describe.each(PROTECTED)('$name behind OAuth', ({ start, generation, transport, steps, rememberedSteps }) => {
  let server: Subject;

  beforeAll(async () => {
    server = await start();
  });

  afterAll(async () => {
    await server.close();
  });

  it('is up and protected when probed without a token, with the latency of the answer', async () => {
    const outcome = await probeMcpServer(server.url, { timeoutMs: TIMEOUT_MS });

    expect(outcome).toMatchObject({ ok: true, auth: 'protected', http_status: 401, transport });
    expect(outcome.failure_layer).toBeUndefined();
    expect(outcome.error).toBeUndefined();
    expect(outcome.tools).toBeUndefined();
    expect(outcome.tools_hash).toBeUndefined();
    expect(outcome.latency_ms).toBeGreaterThanOrEqual(0);
    expect(outcome.latency_ms).toBeLessThan(TIMEOUT_MS);
    expect(outcome.steps.map((s) => [s.step, s.http_status])).toEqual(steps);
  });

  it('is up and protected when its generation is remembered', async () => {
    const outcome = await probeMcpServer(server.url, { timeoutMs: TIMEOUT_MS, generation });

    expect(outcome).toMatchObject({ ok: true, auth: 'protected', http_status: 401 });
    expect(outcome.steps.map((s) => [s.step, s.http_status])).toEqual(rememberedSteps);
  });

  it('is probed in full with the right token, and is then not marked protected', async () => {
    const outcome = await probeMcpServer(server.url, {
      timeoutMs: TIMEOUT_MS,
      headers: { Authorization: `Bearer ${TEST_OAUTH_TOKEN}` },
    });

    expect(outcome).toMatchObject({ ok: true, generation, transport });
    expect(outcome.auth).toBeUndefined();
    expect(outcome.tools?.map((t) => t.name)).toEqual(['add', 'echo']);
  });

  it('is an http failure when the configured token is refused', async () => {
    const outcome = await probeMcpServer(server.url, {
      timeoutMs: TIMEOUT_MS,
      headers: { authorization: 'Bearer expired-token' },
    });

    expect(outcome).toMatchObject({ ok: false, failure_layer: 'http', http_status: 401 });
    expect(outcome.auth).toBeUndefined();
    expect(outcome.error).toMatch(/^HTTP 401 on (initialize|sse-connect)/);
  });
});

describe('isBearerChallenge', () => {
  it.each([
    ['Bearer', true],
    ['bearer', true],
    ['Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource"', true],
    ['Bearer error="invalid_token", error_description="Missing Authorization header"', true],
    ['Basic realm="api", Bearer realm="mcp"', true],
    ['DPoP algs="ES256", Bearer', true],
    ['Basic realm="api"', false],
    ['Basic realm="Bearer, zone"', false],
    ['Bearerish', false],
    ['Negotiate', false],
    ['', false],
  ])('%j → %s', (header, expected) => {
    expect(isBearerChallenge(header)).toBe(expected);
  });

  it('is false without the header', () => {
    expect(isBearerChallenge(null)).toBe(false);
    expect(isBearerChallenge(undefined)).toBe(false);
  });
});
