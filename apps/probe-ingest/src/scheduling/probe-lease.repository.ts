import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { MonitorEntity } from '@tocsin/database';

/** A claimed monitor: the monitor row as it is now, and the slot its lease is for. */
export interface ClaimedProbe {
  readonly monitor: MonitorEntity;
  readonly dueAt: Date;
}

/**
 * The lease table shared by every probe-ingest replica (see docs/architecture.md). Rows are
 * claimed with FOR UPDATE SKIP LOCKED, so replicas never wait on or take each other's rows;
 * a lease lasts the probe's timeout plus a grace, so a replica killed mid-probe frees its
 * monitors when it runs out and the next replica to poll probes them.
 */
@Injectable()
export class ProbeLeaseRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Schedules monitors created since the last call: due at once, phase-aligned after that. */
  async scheduleNewMonitors(): Promise<number> {
    const rows: unknown[] = await this.dataSource.query(`
      INSERT INTO probe_leases (monitor_id, next_due_at)
      SELECT m.id, now() FROM monitors m
      WHERE NOT EXISTS (SELECT 1 FROM probe_leases l WHERE l.monitor_id = m.id)
      ON CONFLICT (monitor_id) DO NOTHING
      RETURNING monitor_id`);
    return rows.length;
  }

  async claimDue(owner: string, limit: number, graceMs: number): Promise<ClaimedProbe[]> {
    if (limit <= 0) return [];
    const rows: Array<MonitorEntity & { due_at: Date }> = await this.dataSource.query(
      `
      WITH due AS (
        SELECT monitor_id, next_due_at FROM probe_leases
        WHERE next_due_at <= now() AND (lease_until IS NULL OR lease_until < now())
        ORDER BY next_due_at
        LIMIT $2
        FOR UPDATE SKIP LOCKED
      ), claimed AS (
        UPDATE probe_leases l
        SET owner = $1, lease_until = now() + (m.timeout_ms + $3::integer) * interval '1 millisecond'
        FROM due, monitors m
        WHERE l.monitor_id = due.monitor_id AND m.id = l.monitor_id
        RETURNING l.monitor_id, due.next_due_at AS due_at
      )
      SELECT m.*, claimed.due_at FROM claimed JOIN monitors m ON m.id = claimed.monitor_id`,
      [owner, limit, graceMs],
    );
    return rows.map(({ due_at, ...monitor }) => ({ monitor: monitor as MonitorEntity, dueAt: new Date(due_at) }));
  }

  /** Ends this replica's lease and books the next slot; a lease that ran out and was taken over is left alone. */
  async complete(owner: string, monitorId: string, nextDueAt: Date): Promise<boolean> {
    const [, affected] = (await this.dataSource.query(
      `UPDATE probe_leases SET next_due_at = $3, owner = NULL, lease_until = NULL
       WHERE monitor_id = $2 AND owner = $1`,
      [owner, monitorId, nextDueAt],
    )) as [unknown, number];
    return affected > 0;
  }

  /** How late the most overdue unleased probe is, in seconds (0 when none is late). */
  async overdueSeconds(): Promise<number> {
    const [row]: Array<{ overdue: number }> = await this.dataSource.query(
      `SELECT coalesce(extract(epoch FROM now() - min(next_due_at)), 0)::float8 AS overdue FROM probe_leases
       WHERE next_due_at <= now() AND (lease_until IS NULL OR lease_until < now())`,
    );
    return Math.max(0, row?.overdue ?? 0);
  }

  /** Hands back leases not yet probed (graceful shutdown), so another replica takes them at once. */
  async release(owner: string): Promise<void> {
    await this.dataSource.query(`UPDATE probe_leases SET owner = NULL, lease_until = NULL WHERE owner = $1`, [owner]);
  }

  /** Replaces sealed headers with the same headers sealed under the current key, unless they changed meanwhile. */
  async reseal(monitorId: string, previous: string, resealed: string): Promise<void> {
    await this.dataSource.query(`UPDATE monitors SET sealed_headers = $3 WHERE id = $1 AND sealed_headers = $2`, [monitorId, previous, resealed]);
  }

  /** Remembers what probing learned about an MCP server, only when it changed. */
  async learn(
    monitorId: string,
    learned: { generation: 'handshake' | 'stateless'; protocolVersion: string | null; toolsCount: number | null },
  ): Promise<void> {
    await this.dataSource.query(
      `UPDATE monitors SET mcp_generation = $2, protocol_version = $3, tools_count = $4
       WHERE id = $1 AND (mcp_generation IS DISTINCT FROM $2 OR protocol_version IS DISTINCT FROM $3
         OR tools_count IS DISTINCT FROM $4)`,
      [monitorId, learned.generation, learned.protocolVersion, learned.toolsCount],
    );
  }
}
