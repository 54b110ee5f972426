import { Client } from 'pg';
import { monitorStreamId } from '@tocsin/contracts';
import { ApiClient, startStack, type Stack } from '../src';

/**
 * GET /v1/incidents/:dedupKey reads the incident's own events by a bounded query, not the
 * monitor's whole stream: a flapping incident with hundreds of events answers its first
 * 500 and says it was cut, and events of the monitor's other incidents are not read.
 */
describe('incident detail', () => {
  let stack: Stack;
  let db: Client;

  beforeAll(async () => {
    stack = await startStack(['api']);
    db = new Client({ connectionString: stack.database.url });
    await db.connect();
  });

  afterAll(async () => {
    await db?.end();
    await stack?.close();
  });

  it('answers the first 500 events of a long incident with truncated: true, and only its own', async () => {
    const { client: api, tenantId } = await ApiClient.tenant(stack.apiUrl, 'flapping');
    const monitor = await api.post<{ id: string }>('/v1/monitors', { slug: 'flapping', name: 'Flapping', url: 'https://flapping.example.com/mcp' });
    const stream = monitorStreamId(tenantId, monitor.body.id);
    const key = (n: number) => `${tenantId}:${monitor.body.id}:${n}`;
    for (const [n, events] of [[1, 3], [2, 700]] as const) {
      await db.query(
        `INSERT INTO incidents (dedup_key, tenant_id, monitor_id, incident_seq, status, severity, failure_layer, started_at, probe_count)
         VALUES ($1, $2, $3, $4, 'open', 'P2', 'http', now(), 3)`,
        [key(n), tenantId, monitor.body.id, n],
      );
      // Incident 1's few events, then incident 2 opened and escalated again and again.
      await db.query(
        `INSERT INTO events (event_id, stream_id, stream_version, type, schema_version, data, metadata)
         SELECT gen_random_uuid(), $1, coalesce((SELECT max(stream_version) FROM events WHERE stream_id = $1), 0) + i,
                CASE WHEN i = 1 THEN 'IncidentOpened' ELSE 'IncidentEscalated' END, 1,
                jsonb_build_object('dedup_key', $2::text, 'i', i), '{}'::jsonb
         FROM generate_series(1, $3::int) i`,
        [stream, key(n), events],
      );
    }
    const small = await api.get<{ timeline: unknown[]; truncated: boolean }>(`/v1/incidents/${encodeURIComponent(key(1))}`);
    expect(small.status).toBe(200);
    expect(small.body.timeline).toHaveLength(3);
    expect(small.body.truncated).toBe(false);

    const long = await api.get<{ timeline: Array<{ type: string; sequence: number; data: { dedup_key: string; i: number } }>; truncated: boolean }>(
      `/v1/incidents/${encodeURIComponent(key(2))}`,
    );
    expect(long.status).toBe(200);
    expect(long.body.truncated).toBe(true);
    expect(long.body.timeline).toHaveLength(500);
    expect(long.body.timeline.every((e) => e.data.dedup_key === key(2))).toBe(true);
    expect(long.body.timeline.map((e) => e.data.i)).toEqual(Array.from({ length: 500 }, (_, i) => i + 1));
    expect(long.body.timeline[0]!.type).toBe('IncidentOpened');

    const { client: other } = await ApiClient.tenant(stack.apiUrl, 'nosy');
    expect((await other.get(`/v1/incidents/${encodeURIComponent(key(2))}`)).status).toBe(404);
  });
});
