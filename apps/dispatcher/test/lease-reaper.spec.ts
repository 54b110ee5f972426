import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { deliveryId } from '@tocsin/delivery-queue';
import { createTestDataSource, type TestDataSource } from '@tocsin/testing';
import { DeliveryRepository, LEASE_EXPIRED_REASON, MAX_LEASE_EXPIRIES } from '../src/deliveries/delivery.repository';

/**
 * The lease reaper on real Postgres: a delivery whose lease ran out for the last time
 * dead-letters, and a P1 among them goes out by its endpoint's fallback like any
 * dead-lettered P1; in the same round another tenant's P2 dead-letters alone and a third
 * delivery is only due again.
 */
describe('lease reaper on real Postgres', () => {
  let db: TestDataSource;
  let ds: DataSource;
  const repository = new DeliveryRepository();

  beforeAll(async () => {
    db = await createTestDataSource(2);
    ds = db.dataSource;
  });

  afterAll(async () => {
    await db?.drop();
  });

  const tenant = async () => {
    const id = randomUUID();
    await ds.query('INSERT INTO tenants (id, name) VALUES ($1, $2)', [id, `t-${id.slice(0, 8)}`]);
    return id;
  };
  const endpoint = async (tenantId: string, fallback: string | null = null) => {
    const id = randomUUID();
    await ds.query(
      `INSERT INTO endpoints (id, tenant_id, name, url, events, severities, include_recovery, method, secret, retry_schedule_seconds, timeout_ms, status, fallback_endpoint_id)
       VALUES ($1, $2, 'hook', 'https://example.com/hook', '["*"]', '["P1","P2","P3"]', true, 'POST', 'sealed', '[1]', 5000, 'active', $3)`,
      [id, tenantId, fallback],
    );
    return id;
  };
  /** An in-flight delivery whose lease ran out `expiries` times before this one. */
  const stuck = async (tenantId: string, endpointId: string, severity: string, expiries: number) => {
    const id = randomUUID();
    const alertEventId = randomUUID();
    await ds.query(
      `INSERT INTO deliveries (id, tenant_id, endpoint_id, alert_event_id, event_type, dedup_key, sequence, body, status,
                               lease_until, lease_expiries, stream_version, attempts)
       VALUES ($1, $2, $3, $4, 'downtime_started', $5, 1, $6, 'in_flight', now() - interval '1 second', $7, 0, 1)`,
      [id, tenantId, endpointId, alertEventId, `key-${id}`, JSON.stringify({ event: 'downtime_started', severity }), expiries],
    );
    return { id, alertEventId };
  };
  const events = async (deliveryIdValue: string) =>
    (await ds.query('SELECT type, data FROM events WHERE stream_id = $1 ORDER BY stream_version', [`delivery-${deliveryIdValue}`])) as Array<{
      type: string;
      data: Record<string, unknown>;
    }>;

  it('hands a P1 dead-lettered by its lease to the fallback, beside another tenant’s P2 and a requeued delivery', async () => {
    const paging = await tenant();
    const fallback = await endpoint(paging);
    const primary = await endpoint(paging, fallback);
    const other = await tenant();
    const otherEndpoint = await endpoint(other, await endpoint(other));
    const p1 = await stuck(paging, primary, 'P1', MAX_LEASE_EXPIRIES - 1);
    const p2 = await stuck(other, otherEndpoint, 'P2', MAX_LEASE_EXPIRIES - 1);
    const young = await stuck(other, otherEndpoint, 'P1', 0);

    const reaped = await ds.transaction((m) => repository.reapExpiredLeases(m));
    expect(reaped).toEqual({ requeued: 1, deadLettered: 2 });

    const handedId = deliveryId(p1.alertEventId, fallback);
    expect((await events(p1.id)).map((e) => [e.type, e.data.reason])).toEqual([
      ['DeadLettered', LEASE_EXPIRED_REASON],
      ['FallbackQueued', LEASE_EXPIRED_REASON],
    ]);
    expect((await events(p1.id))[1]!.data).toMatchObject({ fallback_delivery_id: handedId, fallback_endpoint_id: fallback });
    const rows = (await ds.query('SELECT id, endpoint_id, status, fallback_of, stream_version FROM deliveries WHERE tenant_id = ANY($1) ORDER BY created_at', [
      [paging, other],
    ])) as Array<{ id: string; endpoint_id: string; status: string; fallback_of: string | null; stream_version: number }>;
    const byId = new Map(rows.map((r) => [r.id, r]));
    expect(byId.get(p1.id)).toMatchObject({ status: 'dead_lettered', stream_version: 2 });
    expect(byId.get(handedId)).toMatchObject({ endpoint_id: fallback, status: 'pending', fallback_of: p1.id });
    // The P2 dead-letters alone; the fresh one is only due again; nothing else was created.
    expect((await events(p2.id)).map((e) => e.type)).toEqual(['DeadLettered']);
    expect(byId.get(p2.id)).toMatchObject({ status: 'dead_lettered', stream_version: 1 });
    expect(byId.get(young.id)).toMatchObject({ status: 'retrying', stream_version: 0 });
    expect(rows).toHaveLength(4);
  });
});
