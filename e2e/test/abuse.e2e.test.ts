import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { HEADERS, monitorKey, topicNames, type ProbeResult } from '@tocsin/contracts';
import { WebhookReceiver, waitFor, type ReceivedWebhook } from '@tocsin/testing';
import { AlertProducer, ApiClient, DlqTap, downtimeStarted, ExternalProber, startStack, type Stack } from '../src';

/**
 * Runs `body` while a trigger refuses, as Postgres refuses a `\u0000` in jsonb, every
 * event row matching `condition` (SQL over NEW): a stand-in for any value the database
 * cannot take, so isolation is exercised however good the sanitiser gets.
 */
async function whileEventsRefused(db: Client, condition: string, body: () => Promise<void>): Promise<void> {
  await db.query(`
    CREATE FUNCTION refuse_marked_event() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF ${condition} THEN
        RAISE EXCEPTION 'unsupported Unicode escape sequence' USING ERRCODE = '22P05';
      END IF;
      RETURN NEW;
    END $$;
    CREATE TRIGGER refuse_marked_event BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION refuse_marked_event();`);
  try {
    await body();
  } finally {
    await db.query('DROP TRIGGER refuse_marked_event ON events; DROP FUNCTION refuse_marked_event()');
  }
}

/**
 * One tenant (mallory) sends what an attacker or a broken prober would, on the same
 * partition as another tenant (victim), whose incidents must still arrive, once each and
 * as fast as without the poison. One partition, so every record shares the victim's
 * batches and the relay's rounds.
 */
describe('abuse: nothing one tenant sends stops another tenant\'s alerts', () => {
  let stack: Stack;
  let prober: ExternalProber;
  let dlq: DlqTap;
  let db: Client;
  const receivers: Record<'mallory' | 'victim', WebhookReceiver> = {} as never;
  const tenants: Record<'mallory' | 'victim', { client: ApiClient; tenantId: string }> = {} as never;
  let victimMonitor: string;
  let baselineMs = 0;
  let clock = Date.now() - 60 * 60 * 1000;

  const result = (tenant: 'mallory' | 'victim', monitorId: string, ok: boolean, extra: Partial<ProbeResult> = {}): ProbeResult => ({
    event_id: randomUUID(),
    tenant_id: tenants[tenant].tenantId,
    monitor_id: monitorId,
    observed_at: new Date((clock += 1000)).toISOString(),
    ok,
    source: 'kafka',
    ...(ok ? { latency_ms: 5 } : { failure_layer: 'http', http_status: 503, error: 'HTTP 503' }),
    ...extra,
  });
  /** A record as a well-behaved producer writes it. */
  const record = (r: ProbeResult) => ({ key: monitorKey(r.tenant_id, r.monitor_id), value: JSON.stringify(r), headers: { [HEADERS.tenantId]: r.tenant_id } });

  const monitor = async (tenant: 'mallory' | 'victim', slug: string): Promise<string> => {
    const created = await tenants[tenant].client.post<{ id: string }>('/v1/monitors', { slug, name: slug, url: `https://${slug}.example.com/mcp`, confirm_after: 1 });
    expect(created.status).toBe(201);
    return created.body.id;
  };

  /**
   * Sends `poison` and, behind it in the same request (so in the same batch), a failure of
   * the victim's monitor; answers how long the victim's page took, after checking it
   * arrived once. The victim's monitor then recovers, ready for the next poison.
   */
  const victimPagedDespite = async (poison: ReadonlyArray<Parameters<ExternalProber['sendRaw']>[0]>): Promise<number> => {
    const before = receivers.victim.ofEvent('downtime_started').length;
    const failure = result('victim', victimMonitor, false);
    const sentAt = Date.now();
    await prober.sendRaw(...poison, record(failure));
    const [paged] = (await receivers.victim.waitForEvent('downtime_started', before + 1)).slice(before);
    const tookMs = paged!.receivedAt.getTime() - sentAt;
    expect(paged!.body).toMatchObject({ started_at: failure.observed_at, tenant_id: tenants.victim.tenantId });
    await prober.sendRaw(record(result('victim', victimMonitor, true)));
    await receivers.victim.waitForEvent('downtime_resolved', before + 1);
    return tookMs;
  };

  /** The router has stored offsets up to the partition's end: nothing is stuck. */
  const routerCaughtUp = async () => {
    const admin = prober.kafka.admin();
    await admin.connect();
    try {
      const [end] = await admin.fetchTopicOffsets(topicNames(stack.config.TOCSIN_TOPIC_NAMESPACE).probeResults);
      await waitFor(
        async () => {
          const { rows } = await db.query<{ next: string }>(`SELECT next_offset AS next FROM consumer_offsets WHERE topic LIKE '%probe-results.v1'`);
          return rows[0]?.next === end!.high;
        },
        { description: 'router offset at the end of the partition' },
      );
    } finally {
      await admin.disconnect();
    }
  };

  const expectNoDoubles = (webhooks: readonly ReceivedWebhook[]) => {
    const ids = webhooks.map((w) => w.headers['webhook-id']);
    expect(new Set(ids).size).toBe(ids.length);
    const pages = webhooks.filter((w) => w.body.event === 'downtime_started').map((w) => w.body.dedup_key);
    expect(new Set(pages).size).toBe(pages.length);
  };

  beforeAll(async () => {
    [stack, receivers.mallory, receivers.victim] = await Promise.all([
      startStack(['api', 'severity-router', 'dispatcher'], { TOCSIN_TOPIC_PARTITIONS: '1' }),
      WebhookReceiver.start(),
      WebhookReceiver.start(),
    ]);
    for (const name of ['mallory', 'victim'] as const) {
      tenants[name] = await ApiClient.tenant(stack.apiUrl, name);
      const endpoint = await tenants[name].client.post('/v1/endpoints', { name: 'pager', url: receivers[name].url });
      expect(endpoint.status).toBe(201);
    }
    victimMonitor = await monitor('victim', 'victim-mcp');
    [prober, dlq] = await Promise.all([ExternalProber.connect(stack), DlqTap.start(stack.config)]);
    db = new Client({ connectionString: stack.database.url });
    await db.connect();
  });

  afterAll(async () => {
    await dlq?.stop();
    await prober?.disconnect();
    await db?.end();
    await stack?.close();
    await Promise.all(Object.values(receivers).map((r) => r?.close()));
  });

  afterEach(() => {
    expectNoDoubles(receivers.victim.received);
    expectNoDoubles(receivers.mallory.received);
  });

  /** With poison, the victim's page may take a little longer than without, never much. */
  const expectUnslowed = (tookMs: number) => expect(tookMs).toBeLessThanOrEqual(Math.max(3 * baselineMs, baselineMs + 2_000));

  it('pages the victim without poison (the baseline)', async () => {
    await victimPagedDespite([]);
    baselineMs = await victimPagedDespite([]);
    expect(baselineMs).toBeGreaterThan(0);
  });

  it('stores text Postgres refuses once made storable, and dead-letters bytes that are not JSON as they came', async () => {
    const target = await monitor('mallory', 'text-poison');
    const rawNul = Buffer.concat([Buffer.from('{"tenant_id":"'), Buffer.from([0x00, 0xff]), Buffer.from('"}')]);
    // JSON escapes for a lone surrogate and a NUL: valid JSON that jsonb refuses as it is.
    const escaped = JSON.stringify(result('mallory', target, false, { error: 'boom' }))
      .replace('"boom"', '"half an emoji \\ud83d and a \\u0000 NUL"');
    const surrogateHash = JSON.stringify(result('mallory', target, true, { tools_hash: 'x' }))
      .replace('"tools_hash":"x"', '"tools_hash":"x\\ud800","tools":[{"name":"\\udc00tool","hash":"h"}]');
    const key = monitorKey(tenants.mallory.tenantId, target);
    const tookMs = await victimPagedDespite([
      { key, value: rawNul, headers: { [HEADERS.tenantId]: tenants.mallory.tenantId } },
      { key, value: escaped, headers: { [HEADERS.tenantId]: tenants.mallory.tenantId } },
      { key, value: surrogateHash, headers: { [HEADERS.tenantId]: tenants.mallory.tenantId } },
    ]);
    expectUnslowed(tookMs);
    // Mallory's own failure opened its incident with the text cleaned.
    const [paged] = await receivers.mallory.waitForEvent('downtime_started');
    expect(paged!.body.last_error).toBe('half an emoji \ufffd and a  NUL');
    const dead = await waitFor(() => dlq.of(tenants.mallory.tenantId).find((d) => d.reason === 'value is not valid JSON'), {
      description: 'the NUL record in the DLQ',
    });
    expect(dead.value.equals(rawNul)).toBe(true);
    await routerCaughtUp();
  });

  it('isolates a record Postgres refuses in a batch and dead-letters it with the database\'s reason', async () => {
    await whileEventsRefused(db, "NEW.data::text LIKE '%refuse-me%'", async () => {
      const target = await monitor('mallory', 'db-poison');
      const neighbour = await monitor('mallory', 'db-neighbour');
      const refused = result('mallory', target, false, { error: 'refuse-me' });
      const tookMs = await victimPagedDespite([record(result('mallory', neighbour, false)), record(refused), record(result('victim', victimMonitor, true))]);
      expectUnslowed(tookMs);
      const dead = await waitFor(() => dlq.of(tenants.mallory.tenantId).find((d) => d.reason.startsWith('could not be stored')), {
        description: 'the refused record in the DLQ',
      });
      expect(dead.reason).toContain('unsupported Unicode escape sequence');
      expect(JSON.parse(dead.value.toString())).toMatchObject({ event_id: refused.event_id });
      expect(dead.headers[HEADERS.dlqSourceOffset]).toMatch(/^\d+$/);
      // Mallory's other monitor in the same batch was paged; the refused one was not.
      await waitFor(() => receivers.mallory.received.some((w) => w.body.server_slug === 'db-neighbour'), { description: 'the neighbour paged' });
      expect(receivers.mallory.received.some((w) => w.body.server_slug === 'db-poison')).toBe(false);
      await routerCaughtUp();
    });
  });

  it('refuses results stamped in the future, so they cannot blind a monitor', async () => {
    const target = await monitor('mallory', 'time-poison');
    const future = result('mallory', target, true, { observed_at: '2099-01-01T00:00:00.000Z' });
    const tookMs = await victimPagedDespite([record(future)]);
    expectUnslowed(tookMs);
    const dead = await waitFor(() => dlq.of(tenants.mallory.tenantId).find((d) => d.reason.includes('in the future')), {
      description: 'the future result in the DLQ',
    });
    expect(dead.reason).toMatch(/^observed_at 2099-01-01T00:00:00.000Z is \d+ s in the future \(at most 300 s allowed\)$/);
    // The monitor still sees what comes next.
    await prober.sendRaw(record(result('mallory', target, false)));
    await waitFor(() => receivers.mallory.received.some((w) => w.body.server_slug === 'time-poison' && w.body.event === 'downtime_started'), {
      description: 'the monitor paged after the future stamp',
    });
  });

  it('dead-letters records whose key, tenant-id header and body name different tenants', async () => {
    const victimTenant = tenants.victim.tenantId;
    const forged = (extra: Partial<ProbeResult> = {}) => JSON.stringify({ ...result('victim', victimMonitor, false), ...extra });
    const before = dlq.of(tenants.mallory.tenantId).length;
    const tookMs = await victimPagedDespite([
      // The victim's result under mallory's key (and so, in general, on mallory's partition).
      { key: monitorKey(tenants.mallory.tenantId, victimMonitor), value: forged(), headers: { [HEADERS.tenantId]: victimTenant } },
      // The victim's key and body, but the header mallory's producer sets.
      { key: monitorKey(victimTenant, victimMonitor), value: forged(), headers: { [HEADERS.tenantId]: tenants.mallory.tenantId } },
      // No key at all.
      { value: forged() },
    ]);
    expectUnslowed(tookMs);
    const reasons = await waitFor(
      () => {
        const all = dlq.records.map((d) => d.reason).filter((r) => r.startsWith('record key') || r.startsWith('tenant-id header'));
        return all.length >= 3 && all;
      },
      { description: 'three forged records in the DLQ' },
    );
    expect(reasons.sort()).toEqual([
      expect.stringContaining('record key must be'),
      expect.stringContaining('record key must be'),
      'tenant-id header does not match tenant_id in the body',
    ]);
    // The forged failures came first: had one been applied, the victim's incident would
    // have started at its time, not at the victim's own failure (checked by victimPagedDespite).
    expect(dlq.of(tenants.mallory.tenantId).length).toBe(before + 1);
  });

  it('sets aside an outbox row larger than Kafka takes, and relays the rows behind it', async () => {
    // Rows this large are not made any more (alert bodies and DLQ copies are bounded); a
    // row left from before, or written by a future bug, must still not stop the relay.
    const alertsTopic = topicNames(stack.config.TOCSIN_TOPIC_NAMESPACE).alerts;
    const huge = JSON.stringify({ padding: 'x'.repeat(2 * 1024 * 1024) });
    const { rows } = await db.query<{ id: string }>(`INSERT INTO outbox (topic, key, value, headers) VALUES ($1, $2, $3, '{}') RETURNING id`, [
      alertsTopic,
      `${tenants.mallory.tenantId}:huge`,
      huge,
    ]);
    const tookMs = await victimPagedDespite([]);
    expectUnslowed(tookMs);
    const [row] = (await db.query<{ failed_reason: string | null; published: boolean }>(
      'SELECT failed_reason, published_at IS NOT NULL AS published FROM outbox WHERE id = $1',
      [rows[0]!.id],
    )).rows;
    expect(row).toEqual({ failed_reason: expect.stringMatching(/record of \d+ bytes is larger than the 1000000 bytes/), published: true });
  });

  it('cuts a drift alert over a thousand swapped tools to counts', async () => {
    const target = await monitor('mallory', 'drift-poison');
    const tools = (prefix: string) => Array.from({ length: 1000 }, (_, i) => ({ name: `${prefix}-${i}-${'n'.repeat(400)}`, hash: prefix }));
    const tookMs = await victimPagedDespite([
      record(result('mallory', target, true, { tools_hash: 'before', tools: tools('old') })),
      record(result('mallory', target, true, { tools_hash: 'after', tools: tools('new') })),
    ]);
    expectUnslowed(tookMs);
    const [drift] = await receivers.mallory.waitForEvent('schema_drift_detected');
    expect(drift!.body.schema).toMatchObject({ truncated: true, added_count: 1000, removed_count: 1000, changed_count: 0 });
    const schema = drift!.body.schema as { added: string[]; removed: string[] };
    expect(schema.added).toHaveLength(100);
    expect(schema.removed).toHaveLength(100);
    expect(drift!.rawBody.length).toBeLessThan(200_000);
  });
});

/**
 * The dispatcher writes outcomes in lanes, many tenants' at once. Mallory's receiver
 * answers what no receiver should; the victim's webhooks, in flight at the same moment,
 * must each arrive once and be recorded delivered on their first attempt.
 */
describe('abuse: a receiver\'s answer stays with its own delivery', () => {
  let stack: Stack;
  let alerts: AlertProducer;
  let db: Client;
  const receivers: Record<'mallory' | 'victim', WebhookReceiver> = {} as never;
  const tenants: Record<'mallory' | 'victim', { client: ApiClient; tenantId: string }> = {} as never;

  beforeAll(async () => {
    [stack, receivers.mallory, receivers.victim] = await Promise.all([startStack(['api', 'dispatcher']), WebhookReceiver.start(), WebhookReceiver.start()]);
    for (const name of ['mallory', 'victim'] as const) {
      tenants[name] = await ApiClient.tenant(stack.apiUrl, name);
      // Several endpoints each, so both tenants have endpoints in every flush lane.
      for (let i = 0; i < 4; i++) {
        expect((await tenants[name].client.post('/v1/endpoints', { name: `pager-${i}`, url: receivers[name].url })).status).toBe(201);
      }
    }
    alerts = await AlertProducer.connect(stack);
    db = new Client({ connectionString: stack.database.url });
    await db.connect();
  });

  afterAll(async () => {
    await alerts?.disconnect();
    await db?.end();
    await stack?.close();
    await Promise.all(Object.values(receivers).map((r) => r?.close()));
  });

  /** Sends mallory's alert beside the victim's and checks the victim's side came through whole. */
  const victimUnharmed = async (victimAlerts: number) => {
    const before = receivers.victim.received.length;
    const malloryBefore = receivers.mallory.received.length;
    await alerts.send(downtimeStarted(tenants.mallory.tenantId), ...Array.from({ length: victimAlerts }, () => downtimeStarted(tenants.victim.tenantId)));
    // Four endpoints each: every alert goes to all four.
    await waitFor(() => receivers.victim.received.length >= before + victimAlerts * 4, { description: 'every victim webhook' });
    await waitFor(() => receivers.mallory.received.length >= malloryBefore + 4, { description: 'mallory\'s webhooks' });
    const ids = receivers.victim.received.map((w) => String(w.headers['webhook-id']));
    expect(new Set(ids).size).toBe(ids.length);
    const victimRows = await waitFor(
      async () => {
        const { rows } = await db.query<{ status: string; attempts: number }>('SELECT status, attempts FROM deliveries WHERE tenant_id = $1', [tenants.victim.tenantId]);
        return rows.every((r) => r.status === 'delivered') && rows;
      },
      { description: 'victim deliveries recorded' },
    );
    expect(victimRows.every((r) => r.attempts === 1)).toBe(true);
    const malloryIds = receivers.mallory.received.slice(malloryBefore).map((w) => String(w.headers['webhook-id']));
    return waitFor(
      async () => {
        const { rows } = await db.query<{ id: string; status: string; events: Array<{ type: string; data: Record<string, unknown> }> }>(
          `SELECT d.id, d.status, (SELECT json_agg(json_build_object('type', e.type, 'data', e.data) ORDER BY e.stream_version)
                                   FROM events e WHERE e.stream_id = 'delivery-' || d.id) AS events
           FROM deliveries d WHERE d.id = ANY($1::uuid[])`,
          [malloryIds],
        );
        return rows.length === malloryIds.length && rows.every((r) => r.status === 'delivered') && rows;
      },
      { description: 'mallory\'s deliveries recorded' },
    );
  };

  it('stores a reply of NUL bytes, half an emoji and broken UTF-8 made storable', async () => {
    const poison = Buffer.concat([Buffer.from('ok \u0000 '), Buffer.from('😀').subarray(0, 2), Buffer.from([0xff, 0xfe]), Buffer.from(' \ud800'.repeat(1)), Buffer.alloc(600, 0x61)]);
    receivers.mallory.respondWith(() => ({ status: 200, body: poison }));
    const rows = await victimUnharmed(20);
    for (const row of rows) {
      const succeeded = row.events.find((e) => e.type === 'AttemptSucceeded')!;
      const snippet = String(succeeded.data.response_snippet);
      expect(snippet.startsWith('ok  ')).toBe(true);
      expect(snippet).not.toContain('\u0000');
      expect(snippet.length).toBeLessThanOrEqual(512);
    }
  });

  it('isolates an outcome Postgres refuses and records it without the receiver\'s text', async () => {
    // A reply the sanitiser misses: the attempt event holding the marker is refused.
    await whileEventsRefused(db, "NEW.type = 'AttemptSucceeded' AND NEW.data::text LIKE '%refuse-me%'", async () => {
      receivers.mallory.respondWith(() => ({ status: 200, body: 'refuse-me' }));
      const rows = await victimUnharmed(20);
      for (const row of rows) {
        expect(row.events.find((e) => e.type === 'AttemptSucceeded')!.data).toMatchObject({ response_snippet: '', http_status: 200 });
      }
    });
  });
});
