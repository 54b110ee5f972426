import type { DataSource } from 'typeorm';
import { EventStore } from '@tocsin/event-store';
import { MONITOR_PROJECTION_TABLES, projectMonitorEvents } from './monitor.projections';

export interface RebuildOutcome {
  readonly events: number;
  readonly tables: readonly string[];
}

/**
 * Empties the monitor read models and replays every monitor stream into them, in one
 * transaction: TRUNCATE locks the tables, so readers wait for the commit and then see
 * the rebuilt rows, never empty tables.
 */
export async function rebuildProjections(dataSource: DataSource): Promise<RebuildOutcome> {
  const store = new EventStore(dataSource);
  return dataSource.transaction(async (manager) => {
    await manager.query(`LOCK TABLE ${MONITOR_PROJECTION_TABLES.join(', ')} IN EXCLUSIVE MODE`);
    await manager.query(`TRUNCATE ${MONITOR_PROJECTION_TABLES.join(', ')}`);
    let events = 0;
    for await (const page of store.readByPrefix('monitor-', 5_000, manager)) {
      await projectMonitorEvents(manager, page);
      events += page.length;
    }
    return { events, tables: MONITOR_PROJECTION_TABLES };
  });
}
