import { startMcpServer, WebhookReceiver, waitFor, type TestMcpServer } from '@tocsin/testing';
import type { Page } from 'playwright-core';
import { ApiClient, launchBrowser, startStack, type Browser, type Stack } from '../src';

/**
 * The console in Debian's chromium against the real stack: an MCP server (official SDK)
 * probed by probe-ingest, the router, the dispatcher and a real webhook receiver.
 */
describe('the console in a real browser', () => {
  let stack: Stack;
  let mcp: TestMcpServer;
  let receiver: WebhookReceiver;
  let browser: Browser;
  let page: Page;
  let api: ApiClient;
  let key: string;
  let endpointId: string;
  let monitorId: string;

  const open = async (path: string) => {
    await page.goto(`${stack.apiUrl}/console${path}`);
  };
  const statusBadge = (value: string) => page.locator(`[data-testid="monitor-status"][data-status="${value}"]`).first();

  beforeAll(async () => {
    [stack, mcp, receiver, browser] = await Promise.all([
      startStack(['api', 'probe-ingest', 'severity-router', 'dispatcher']),
      startMcpServer(),
      WebhookReceiver.start(),
      launchBrowser(),
    ]);
    page = browser.page;
    page.setDefaultTimeout(30_000);
    ({ client: api, key } = await ApiClient.tenant(stack.apiUrl, 'acme'));
    const endpoint = await api.post<{ id: string }>('/v1/endpoints', { name: 'pager', url: receiver.url, retry_schedule_seconds: [0, 1] });
    expect(endpoint.status).toBe(201);
    endpointId = endpoint.body.id;
    const monitor = await api.post<{ id: string }>('/v1/monitors', {
      slug: 'docs-mcp',
      name: 'Docs MCP',
      url: mcp.url,
      kind: 'mcp',
      interval_seconds: 1,
      timeout_ms: 2000,
      confirm_after: 2,
    });
    expect(monitor.status).toBe(201);
    monitorId = monitor.body.id;
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
    await Promise.all([mcp?.close(), receiver?.close()]);
  });

  it('serves the built app at /console/ with an SPA fallback, and nothing to write', async () => {
    for (const path of ['/console/', '/console/monitors', `/console/incidents/tcs_${'0'.repeat(32)}`]) {
      const res = await fetch(`${stack.apiUrl}${path}`);
      expect([path, res.status, res.headers.get('content-type')]).toEqual([path, 200, expect.stringContaining('text/html')]);
      expect(await res.text()).toContain('<div id="root">');
    }
    const post = await fetch(`${stack.apiUrl}/console/monitors`, { method: 'POST' });
    expect(post.status).toBe(405);
    const missing = await fetch(`${stack.apiUrl}/console/assets/nope.js`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ statusCode: 404 });
  });

  it('signs in with a tenant API key and keeps it in the session only', async () => {
    await open('/');
    await page.getByTestId('api-key').fill('tk_not_a_real_key');
    await page.getByTestId('sign-in').click();
    await page.getByText('That key was not accepted.').waitFor();
    await browser.screenshot('01-sign-in-refused');

    await page.getByTestId('api-key').fill(key);
    await page.getByTestId('sign-in').click();
    await page.getByTestId('monitor-row-docs-mcp').waitFor();
    expect(new URL(page.url()).pathname).toBe('/console/monitors');
    expect(await page.evaluate('[sessionStorage.length, localStorage.length, document.cookie]')).toEqual([1, 0, '']);
  });

  it('lists monitors with their live status', async () => {
    await statusBadge('up').waitFor();
    await browser.screenshot('02-monitors');
  });

  it('shows a monitor go down and come back while its page stays open', async () => {
    await page.getByRole('link', { name: 'Docs MCP' }).click();
    await page.waitForURL(`**/console/monitors/${monitorId}`);
    await statusBadge('up').waitFor();
    await mcp.stop();
    await statusBadge('down').waitFor({ timeout: 60_000 });
    await page.getByTestId('open-incident').waitFor();
    await expect(page.getByTestId('open-incident').innerText()).resolves.toContain('transport');
    await browser.screenshot('03-monitor-down');
    await mcp.start();
    await statusBadge('up').waitFor({ timeout: 60_000 });
    await page.getByTestId('open-incident').waitFor({ state: 'detached' });
    await browser.screenshot('04-monitor-recovered');
  });

  it('lists resolved incidents with severity, layer and duration', async () => {
    await receiver.waitForEvent('downtime_resolved');
    await page.getByRole('link', { name: 'Incidents' }).click();
    await page.getByText('Resolved', { exact: true }).click();
    const row = page.getByTestId('incident-row').first();
    await row.waitFor();
    const text = await row.innerText();
    expect(text).toContain('P1');
    expect(text).toContain('transport');
    expect(text).toMatch(/resolved/i);
    await browser.screenshot('05-incidents');
  });

  it("opens a webhook's dashboard_url on the incident page, with its timeline and deliveries", async () => {
    const [started] = receiver.ofEvent('downtime_started');
    const dashboardUrl = String(started!.body.dashboard_url);
    // The dispatcher's base URL is configuration; the path is what must land on the console page.
    const { pathname } = new URL(dashboardUrl);
    await page.goto(`${stack.apiUrl}${pathname}`);
    await page.waitForURL(`**/console/incidents/${String(started!.body.dedup_key)}`);
    await page.getByTestId('timeline').getByText('IncidentResolved').waitFor();
    await expect(page.getByTestId('timeline').innerText()).resolves.toContain('IncidentOpened');
    const deliveries = page.getByTestId('incident-deliveries');
    await deliveries.getByText('downtime_resolved').waitFor();
    await expect(deliveries.innerText()).resolves.toContain('downtime_started');
    await browser.screenshot('06-incident');

    // An API client asking the same address still gets JSON, not the redirect.
    const json = await api.get<{ dedup_key: string }>(pathname);
    expect(json.body.dedup_key).toBe(started!.body.dedup_key);
  });

  it('shows endpoints with stats, and an endpoint page with its recent attempts', async () => {
    await page.getByRole('link', { name: 'Endpoints' }).click();
    const row = page.getByTestId('endpoint-row').first();
    await row.waitFor();
    await waitFor(async () => (await row.innerText()).includes('100.0%'), { description: 'endpoint success rate shown' });
    await browser.screenshot('07-endpoints');

    await page.getByRole('link', { name: 'pager' }).click();
    await page.waitForURL(`**/console/endpoints/${endpointId}`);
    await page.locator('[data-testid="attempt-row"][data-event="downtime_resolved"]').waitFor();
    await expect(page.getByTestId('stat-delivered').innerText()).resolves.toBe('2');
    const attempt = await page.locator('[data-testid="attempt-row"][data-event="downtime_started"]').innerText();
    expect(attempt).toContain('200');
    expect(attempt).toMatch(/succeeded/i);
    await browser.screenshot('08-endpoint');

    await page.locator('[data-testid="delivery-row"][data-event="downtime_started"]').getByRole('link').click();
    await page.getByTestId('delivery-attempts').getByText('200').waitFor();
    await browser.screenshot('09-delivery');
  });

  it('lists receivers and shows a receiver with its log of calls', async () => {
    const created = await api.post<{ id: string; url: string }>('/v1/receivers', {
      name: 'statuspage',
      monitor_id: monitorId,
      status_field: 'page.status',
    });
    expect(created.status).toBe(201);
    const call = await fetch(new URL(created.body.url, stack.apiUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ page: { status: 'operational' } }),
    });
    expect(call.status).toBeLessThan(300);

    await page.getByRole('link', { name: 'Receivers' }).click();
    await page.getByTestId('receiver-row').first().waitFor();
    await browser.screenshot('10-receivers');
    await page.getByRole('link', { name: 'statuspage' }).click();
    const row = page.locator('[data-testid="receiver-call"][data-result="processed"]');
    await row.waitFor();
    expect(await row.innerText()).toContain('operational');
    await browser.screenshot('10b-receiver-log');
  });

  it('renders the SLA page', async () => {
    await page.getByRole('link', { name: 'SLA' }).click();
    await page.getByRole('heading', { name: 'SLA' }).waitFor();
    await browser.screenshot('11-sla');
  });

  it('signs out and forgets the key', async () => {
    await page.getByTestId('sign-out').click();
    await page.getByTestId('api-key').waitFor();
    expect(await page.evaluate('sessionStorage.length')).toBe(0);
  });
});
