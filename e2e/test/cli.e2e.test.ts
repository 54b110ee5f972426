import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTocsinClient, ok } from '@tocsin/client';
import { WebhookReceiver, waitFor } from '@tocsin/testing';
import { ADMIN_TOKEN, runTocsin, startApiProcess, startStack, type ApiProcess, type CliRun, type Stack } from '../src';

/** The built `tocsin` binary with the API's address and a key in its environment. */
const tocsin = (env: Record<string, string>, args: string[], stdin?: string) => runTocsin(args, env, stdin);

describe('the tocsin CLI against a real API process', () => {
  let stack: Stack;
  let api: ApiProcess;
  let receiver: WebhookReceiver;
  let env: Record<string, string>;
  const json = <T>(run: CliRun): T => {
    expect([run.code, run.stderr]).toEqual([0, '']);
    return JSON.parse(run.stdout) as T;
  };

  beforeAll(async () => {
    // The API runs as its own process (the built main.js), the dispatcher in this one.
    stack = await startStack(['dispatcher']);
    api = await startApiProcess(stack);
    receiver = await WebhookReceiver.start();
    const admin = createTocsinClient({ baseUrl: api.url, token: ADMIN_TOKEN });
    const tenant = await ok(admin.POST('/v1/tenants', { body: { name: 'cli' } }));
    const key = await ok(admin.POST('/v1/tenants/{id}/api-keys', { params: { path: { id: tenant.id } } }));
    env = { TOCSIN_URL: api.url, TOCSIN_API_KEY: key.key, TOCSIN_ADMIN_TOKEN: ADMIN_TOKEN };
  });

  afterAll(async () => {
    await receiver?.close();
    await api?.stop();
    await stack?.close();
  });

  it('creates a monitor and an endpoint, sends a test webhook, lists and redelivers it', async () => {
    const monitor = json<{ id: string; slug: string; tenant_id: string }>(
      await tocsin(env, ['monitors', 'create', '--slug', 'cli-mcp', '--name', 'CLI MCP', '--url', 'http://127.0.0.1:9/mcp', '--interval', '30', '--json']),
    );
    expect(monitor.slug).toBe('cli-mcp');
    const table = await tocsin(env, ['monitors', 'list']);
    expect(table.code).toBe(0);
    expect(table.stdout).toContain('cli-mcp');

    const endpoint = json<{ id: string; secret: string }>(await tocsin(env, ['endpoints', 'create', '--name', 'cli-hook', '--url', receiver.url, '--json']));
    expect(endpoint.secret).toMatch(/^whsec_/);

    const queued = json<{ delivery_id: string }>(await tocsin(env, ['endpoints', 'test', endpoint.id, '--json']));
    await waitFor(() => receiver.received.length === 1, { description: 'the test webhook at the receiver', timeoutMs: 30_000 });
    expect(receiver.received[0]!.headers['webhook-id']).toBe(queued.delivery_id);

    const delivered = await waitFor(
      async () => {
        const list = json<{ data: Array<{ id: string; status: string; event: string }> }>(await tocsin(env, ['deliveries', 'list', '--json']));
        const found = list.data.find((d) => d.id === queued.delivery_id);
        return found?.status === 'delivered' ? found : undefined;
      },
      { description: 'the delivery listed as delivered', timeoutMs: 30_000 },
    );
    expect(delivered.event).toBe('webhook.test');
    const people = await tocsin(env, ['deliveries', 'list', '--endpoint', endpoint.id]);
    expect(people.stdout).toContain(queued.delivery_id);

    expect((await tocsin(env, ['deliveries', 'redeliver', queued.delivery_id, '--json'])).code).toBe(0);
    await waitFor(() => receiver.received.length === 2, { description: 'the redelivery at the receiver', timeoutMs: 30_000 });
    expect(receiver.received[1]!.headers['webhook-id']).toBe(queued.delivery_id);

    const shown = json<{ id: string; attempts: unknown[] }>(await tocsin(env, ['deliveries', 'show', queued.delivery_id, '--json']));
    expect(shown.attempts.length).toBeGreaterThanOrEqual(1);
  });

  it('exits 1 with the API\'s reason when a request is refused', async () => {
    const missing = await tocsin(env, ['monitors', 'show', '00000000-0000-4000-8000-000000000000']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/404 Not Found: monitor .* not found/);
    const invalid = await tocsin(env, ['monitors', 'create', '--slug', 'Bad Slug', '--name', 'x', '--url', 'ftp://x', '--json']);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toContain('slug');
    const noKey = await tocsin({ ...env, TOCSIN_API_KEY: 'tsk_wrong' }, ['monitors', 'list']);
    expect(noKey.code).toBe(1);
    expect(noKey.stderr).toContain('401');
    const down = await tocsin({ ...env, TOCSIN_URL: 'http://127.0.0.1:9' }, ['monitors', 'list']);
    expect(down.code).toBe(1);
  });

  it('exits 2 on bad usage, and 0 with help on every command', async () => {
    expect((await tocsin(env, ['monitors', 'frobnicate'])).code).toBe(2);
    expect((await tocsin(env, ['monitors', 'create', '--name', 'no slug'])).code).toBe(2);
    expect((await tocsin(env, ['monitors', 'list', '--limit', 'many'])).code).toBe(2);
    expect((await tocsin(env, ['probe-results', 'push', '/no/such/file.json'])).code).toBe(2);
    for (const args of [[], ['monitors'], ['endpoints'], ['deliveries'], ['incidents'], ['receivers'], ['keys'], ['probe-results'], ['endpoints', 'replay']]) {
      const help = await tocsin(env, [...args, '--help']);
      expect([args.join(' '), help.code]).toEqual([args.join(' '), 0]);
      expect(help.stdout).toContain('Usage: tocsin');
    }
  });

  it('pushes probe results from stdin and from a file', async () => {
    const pushed = json<{ accepted: number }>(
      await tocsin(env, ['probe-results', 'push', '-', '--json'], JSON.stringify({ results: [{ monitor_id: 'cli-mcp', ok: true }] })),
    );
    expect(pushed.accepted).toBe(1);
    const dir = mkdtempSync(join(tmpdir(), 'tocsin-cli-'));
    const file = join(dir, 'results.json');
    writeFileSync(file, JSON.stringify([{ monitor_id: 'cli-mcp', ok: false, failure_layer: 'transport', error: 'refused' }]));
    const fromFile = await tocsin(env, ['probe-results', 'push', file]);
    rmSync(dir, { recursive: true, force: true });
    expect(fromFile.code).toBe(0);
    expect(fromFile.stdout).toContain('accepted');
    const bad = await tocsin(env, ['probe-results', 'push', '-'], '{"results": [');
    expect(bad.code).toBe(2);
  });

  it('lists, rotates and revokes keys; a revoked key answers 401 at once', async () => {
    const issued = json<{ id: string; key: string; prefix: string }>(await tocsin(env, ['keys', 'create', '--json']));
    const own = { ...env, TOCSIN_API_KEY: issued.key };
    const listed = json<{ data: Array<{ id: string; prefix: string }> }>(await tocsin(own, ['keys', 'list', '--prefix', issued.prefix, '--json']));
    expect(listed.data.map((k) => k.id)).toEqual([issued.id]);
    expect(JSON.stringify(listed)).not.toContain(issued.key);
    const rotated = json<{ id: string; key: string }>(await tocsin(own, ['keys', 'rotate', issued.id, '--json']));
    expect((await tocsin(own, ['tenant', 'show'])).code).toBe(1);
    const fresh = { ...env, TOCSIN_API_KEY: rotated.key };
    const tenant = json<{ id: string; name: string }>(await tocsin(fresh, ['tenant', 'show', '--json']));
    expect(tenant.name).toBe('cli');
    const keys = json<{ data: Array<{ id: string; revoked_at: string | null }> }>(await tocsin(fresh, ['keys', 'list', '--json'])).data;
    expect(keys.find((k) => k.id === issued.id)?.revoked_at).toEqual(expect.any(String));
    expect((await tocsin(env, ['keys', 'delete', rotated.id])).code).toBe(0);
    const revoked = await tocsin(fresh, ['monitors', 'list']);
    expect(revoked.code).toBe(1);
    expect(revoked.stderr).toContain('revoked');
  });
});
