import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { topicNames } from '@tocsin/contracts';
import { WebhookReceiver } from '@tocsin/testing';
import { ApiClient, startStack, type Stack } from '../src';

const run = promisify(execFile);
const MARKER = '<!-- producer-example:';

/** The first ```js block after the marker in docs/producers.md, exactly as a reader copies it. */
function producerExample(): string {
  const doc = readFileSync(join(__dirname, '../../docs/producers.md'), 'utf8');
  const from = doc.indexOf(MARKER);
  const match = /```js\n([\s\S]*?)```/.exec(doc.slice(from));
  if (from < 0 || !match) throw new Error('docs/producers.md has no marked producer example');
  return match[1]!;
}

describe('the producer example in docs/producers.md', () => {
  let stack: Stack;
  let pager: WebhookReceiver;

  beforeAll(async () => {
    [stack, pager] = await Promise.all([startStack(['api', 'severity-router', 'dispatcher']), WebhookReceiver.start()]);
  });

  afterAll(async () => {
    await stack?.close();
    await pager?.close();
  });

  it('runs against the real broker, and its record opens an incident with a webhook', async () => {
    const { client: api, tenantId } = await ApiClient.tenant(stack.apiUrl, 'acme');
    const endpoint = await api.post<{ secret: string }>('/v1/endpoints', { name: 'pager', url: pager.url });
    await api.post('/v1/monitors', { slug: 'own-prober', name: 'Own prober', url: 'https://own.example.com/mcp', confirm_after: 1 });

    // Node runs the block as a reader would run it; kafkajs resolves from this workspace.
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', producerExample()], {
      cwd: join(__dirname, '..'),
      env: {
        ...process.env,
        KAFKA_BROKERS: stack.config.KAFKA_BROKERS.join(','),
        TOCSIN_TOPIC: topicNames(stack.config.TOCSIN_TOPIC_NAMESPACE).probeResults,
        TOCSIN_TENANT_ID: tenantId,
        TOCSIN_MONITOR_ID: 'own-prober',
      },
      timeout: 60_000,
    });
    const eventId = /sent ([0-9a-f-]{36})/.exec(stdout)?.[1];
    expect(eventId).toBeDefined();

    const [started] = await pager.waitForEvent('downtime_started');
    expect(started!.body).toMatchObject({
      server_slug: 'own-prober',
      failure_layer: 'http',
      severity: 'P1',
      last_error: 'upstream answered 503',
      tenant_id: tenantId,
    });
    expect(WebhookReceiver.verify(endpoint.body.secret, started!)).toBe(true);
  });
});
