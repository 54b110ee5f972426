import type { DataSource } from 'typeorm';
import { createTestDataSource, type TestDataSource } from '@tocsin/testing';
import { enqueueOutbox, EventStore, freshRecords, markProcessed, markProcessedMany, relayOutboxBatch, storeOffset } from '../src';

describe('event store on real Postgres', () => {
  let db: TestDataSource;
  let ds: DataSource;
  let store: EventStore;

  beforeAll(async () => {
    db = await createTestDataSource(4);
    ds = db.dataSource;
    store = new EventStore(ds);
  });

  afterAll(async () => {
    await db?.drop();
  });

  const event = (n: number) => ({ type: 'Thing', schemaVersion: 1, data: { n } });

  it('appends in order with versions and reads the stream back', async () => {
    const first = await store.append(ds.manager, 's-1', 0, [event(1), event(2)], { tenant_id: 't' });
    expect(first).toMatchObject({ ok: true, version: 2 });
    const second = await store.append(ds.manager, 's-1', 2, [event(3)], { tenant_id: 't', causation_id: 'c' });
    expect(second).toMatchObject({ ok: true, version: 3 });
    const read = await store.readStream('s-1');
    expect(read.map((e) => [e.streamVersion, e.data.n])).toEqual([[1, 1], [2, 2], [3, 3]]);
    expect(read[2]!.metadata).toEqual({ tenant_id: 't', causation_id: 'c' });
  });

  it('reports a stale expected version as a conflict, writing nothing', async () => {
    await store.append(ds.manager, 's-2', 0, [event(1)], { tenant_id: 't' });
    const stale = await store.append(ds.manager, 's-2', 0, [event(99)], { tenant_id: 't' });
    expect(stale).toEqual({ ok: false, reason: 'conflict', actualVersion: 1 });
    expect((await store.readStream('s-2')).map((e) => e.data.n)).toEqual([1]);
  });

  it('lets two concurrent writers of one version have exactly one winner', async () => {
    const attempts = await Promise.all(
      [1, 2, 3].map((n) => ds.transaction((m) => store.append(m, 's-3', 0, [event(n)], { tenant_id: 't' }))),
    );
    expect(attempts.filter((a) => a.ok)).toHaveLength(1);
    expect(await store.readStream('s-3')).toHaveLength(1);
  });

  it('skips records below the stored offset, per cluster, and never moves it backwards', async () => {
    const scope = { group: 'g', clusterId: 'cluster-a', topic: 'topic', partition: 0 };
    const records = [8, 9, 10, 11].map((n) => ({ offset: String(n) }));
    expect(await freshRecords(ds.manager, scope, records, '12')).toEqual({ fresh: records, replayed: 0 });
    await storeOffset(ds.manager, scope, 10n);
    await storeOffset(ds.manager, scope, 7n);
    expect(await freshRecords(ds.manager, scope, records, '12')).toEqual({ fresh: records.slice(2), replayed: 2 });
    // Another cluster's partition 0 is another partition: nothing of it was applied.
    expect(await freshRecords(ds.manager, { ...scope, clusterId: 'cluster-b' }, records, '12')).toMatchObject({ replayed: 0 });
  });

  it('ignores a stored offset past the end of a re-created topic', async () => {
    const scope = { group: 'g', clusterId: 'cluster-a', topic: 'recreated', partition: 0 };
    await storeOffset(ds.manager, scope, 500n);
    const records = [0, 1].map((n) => ({ offset: String(n) }));
    expect(await freshRecords(ds.manager, scope, records, '2')).toEqual({ fresh: records, replayed: 0, staleOffset: 500n });
    await storeOffset(ds.manager, scope, 2n, true);
    expect(await freshRecords(ds.manager, scope, records, '2')).toEqual({ fresh: [], replayed: 2 });
  });

  it('remembers processed event ids per group', async () => {
    const id = '0d6c6f6e-1d0e-4c41-9a3c-8e1f7e2b9a10';
    expect(await markProcessed(ds.manager, 'g', id)).toBe(true);
    expect(await markProcessed(ds.manager, 'g', id)).toBe(false);
    expect(await markProcessed(ds.manager, 'other-group', id)).toBe(true);
  });

  it('relays the outbox in order and retries a batch whose publish failed', async () => {
    await enqueueOutbox(
      ds.manager,
      [1, 2, 3].map((n) => ({ topic: 't', key: 'k', value: String(n), headers: {} })),
    );
    await expect(relayOutboxBatch(ds, async () => Promise.reject(new Error('broker down')))).rejects.toThrow('broker down');
    const published: string[] = [];
    expect(await relayOutboxBatch(ds, async (rows) => void published.push(...rows.map((r) => String(r.value))))).toBe(3);
    expect(published).toEqual(['1', '2', '3']);
    expect(await relayOutboxBatch(ds, async () => Promise.reject(new Error('nothing left to send')))).toBe(0);
  });

  it('keeps a dead letter\'s bytes as they came and sets a refused row aside with its reason', async () => {
    const raw = Buffer.from([0x7b, 0x00, 0xff, 0xfe, 0x7d]);
    await enqueueOutbox(ds.manager, [
      { topic: 'dlq', key: 'a', value: raw, headers: { reason: 'not JSON' } },
      { topic: 't', key: 'b', value: 'too large', headers: {} },
      { topic: 't', key: 'c', value: 'fine', headers: {} },
    ]);
    const seen: Array<string | Buffer> = [];
    const refusedLog: string[] = [];
    const relayed = await relayOutboxBatch(
      ds,
      async (rows) => {
        seen.push(...rows.map((r) => r.value));
        return new Map([[rows[1]!.id, 'record too large']]);
      },
      undefined,
      (row, reason) => refusedLog.push(`${row.key}: ${reason}`),
    );
    expect(relayed).toBe(3);
    expect(Buffer.isBuffer(seen[0]) && seen[0].equals(raw)).toBe(true);
    expect(seen.slice(1)).toEqual(['too large', 'fine']);
    expect(refusedLog).toEqual(['b: record too large']);
    const rows: Array<{ key: string; failed_reason: string | null; published: boolean }> = await ds.query(
      `SELECT key, failed_reason, published_at IS NOT NULL AS published FROM outbox WHERE key IN ('a', 'b', 'c') ORDER BY id`,
    );
    expect(rows).toEqual([
      { key: 'a', failed_reason: null, published: true },
      { key: 'b', failed_reason: 'record too large', published: true },
      { key: 'c', failed_reason: null, published: true },
    ]);
  });
});

describe('markProcessedMany', () => {
  let db: TestDataSource;
  let ds: DataSource;

  beforeAll(async () => {
    db = await createTestDataSource(2);
    ds = db.dataSource;
  });

  afterAll(async () => {
    await db?.drop();
  });

  it('returns only ids the group has not seen, once each', async () => {
    const [a, b, c] = ['1f0f5d8e-3c59-4c3f-9d0e-2a7b6c5d4e01', '1f0f5d8e-3c59-4c3f-9d0e-2a7b6c5d4e02', '1f0f5d8e-3c59-4c3f-9d0e-2a7b6c5d4e03'];
    expect(await markProcessedMany(ds.manager, 'g', [a!, b!, a!])).toEqual(new Set([a, b]));
    expect(await markProcessedMany(ds.manager, 'g', [b!, c!])).toEqual(new Set([c]));
    expect(await markProcessedMany(ds.manager, 'g', [])).toEqual(new Set());
  });
});
