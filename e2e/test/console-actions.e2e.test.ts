import { WebhookReceiver, waitFor } from '@tocsin/testing';
import type { Page } from 'playwright-core';
import { ApiClient, launchBrowser, startStack, type Browser, type Stack } from '../src';

/**
 * The endpoint page's actions pressed in Debian's chromium, against the real API and
 * dispatcher and a real webhook receiver: every press is checked at the receiver or the API.
 */
describe('endpoint actions in the console', () => {
  let stack: Stack;
  let receiver: WebhookReceiver;
  let browser: Browser;
  let page: Page;
  let api: ApiClient;
  let key: string;
  let endpointId: string;

  const badge = (value: string) => page.locator(`[data-testid="endpoint-status"][data-status="${value}"]`);

  beforeAll(async () => {
    [stack, receiver, browser] = await Promise.all([startStack(['api', 'dispatcher']), WebhookReceiver.start(), launchBrowser()]);
    page = browser.page;
    page.setDefaultTimeout(30_000);
    ({ client: api, key } = await ApiClient.tenant(stack.apiUrl, 'acme'));
    const endpoint = await api.post<{ id: string }>('/v1/endpoints', { name: 'pager', url: receiver.url, retry_schedule_seconds: [0] });
    expect(endpoint.status).toBe(201);
    endpointId = endpoint.body.id;
    await page.goto(`${stack.apiUrl}/console/endpoints/${endpointId}`);
    await page.getByTestId('api-key').fill(key);
    await page.getByTestId('sign-in').click();
    await badge('active').waitFor();
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
    await receiver?.close();
  });

  it('Test sends a signed webhook.test and its attempt appears on the page', async () => {
    await page.getByTestId('action-test').click();
    await page.getByTestId('notice').getByText('Test webhook queued').waitFor();
    const [test] = await receiver.waitForEvent('webhook.test');
    const secret = (await api.get<{ secret: string }>(`/v1/endpoints/${endpointId}/secret`)).body.secret;
    expect(WebhookReceiver.verify(secret, test!)).toBe(true);
    const row = page.locator('[data-testid="attempt-row"][data-event="webhook.test"][data-outcome="succeeded"]');
    await row.waitFor();
    expect(await row.innerText()).toContain('200');
    await browser.screenshot('20-endpoint-test-sent');
  });

  it('Pause and Resume change the endpoint status', async () => {
    await page.getByTestId('action-pause').click();
    await badge('paused').waitFor();
    expect((await api.get<{ status: string }>(`/v1/endpoints/${endpointId}`)).body.status).toBe('paused');
    await browser.screenshot('21-endpoint-paused');
    await page.getByTestId('action-resume').click();
    await badge('active').waitFor();
    expect((await api.get<{ status: string }>(`/v1/endpoints/${endpointId}`)).body.status).toBe('active');
  });

  it('Rotate secret shows the new secret once, and the next webhook is signed with it', async () => {
    await page.getByTestId('action-rotate').click();
    const shown = (await page.getByTestId('new-secret').innerText()).trim();
    expect(shown).toMatch(/^whsec_/);
    await browser.screenshot('22-endpoint-secret-rotated');
    await page.getByTestId('close-secret').click();
    await page.getByTestId('new-secret').waitFor({ state: 'detached' });
    expect(await page.getByText(shown).count()).toBe(0);

    await page.getByTestId('action-test').click();
    const tests = await receiver.waitForEvent('webhook.test', 2);
    expect(WebhookReceiver.verify(shown, tests[1]!)).toBe(true);
  });

  it('Redeliver sends a dead-lettered delivery again with the same webhook-id', async () => {
    receiver.respondWith(() => ({ status: 400, body: 'bad hook' }));
    const before = receiver.received.length;
    await page.getByTestId('action-test').click();
    const failed = page.locator('[data-testid="delivery-row"][data-status="dead_lettered"]').first();
    await failed.waitFor();
    const firstTry = receiver.received[before]!;
    expect(await failed.innerText()).toContain('400');
    await browser.screenshot('23-endpoint-dead-lettered');

    receiver.respondWith(() => ({ status: 200, body: 'ok' }));
    await failed.getByTestId('action-redeliver').click();
    await waitFor(() => receiver.received.length > before + 1, { description: 'the redelivery arrives' });
    const again = receiver.received[before + 1]!;
    expect(again.headers['webhook-id']).toBe(firstTry.headers['webhook-id']);
    await page.locator('[data-testid="delivery-row"][data-status="dead_lettered"]').waitFor({ state: 'detached' });
    await browser.screenshot('24-endpoint-redelivered');
  });

  it('Replay range shows the dry-run count before replaying', async () => {
    receiver.respondWith(() => ({ status: 400, body: 'still bad' }));
    await page.getByTestId('action-test').click();
    await page.locator('[data-testid="delivery-row"][data-status="dead_lettered"]').first().waitFor();
    receiver.respondWith(() => ({ status: 200, body: 'ok' }));
    const before = receiver.received.length;

    await page.getByTestId('replay-count').click();
    await page.getByTestId('replay-dry-run').getByText('Dry run: 1 delivery').waitFor();
    expect(receiver.received.length).toBe(before);
    await browser.screenshot('25-endpoint-replay-dry-run');
    await page.getByTestId('replay-run').click();
    await waitFor(() => receiver.received.length > before, { description: 'the replayed delivery arrives' });
    await page.locator('[data-testid="delivery-row"][data-status="dead_lettered"]').waitFor({ state: 'detached' });
  });
});
