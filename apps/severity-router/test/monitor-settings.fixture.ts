import type { MonitorSettings } from '../src/monitors/monitor.aggregate';

/** The monitor the aggregate tests fold results into, with what a test changes. */
export function monitorSettings(overrides: Partial<MonitorSettings> = {}): MonitorSettings {
  return {
    tenantId: 'tenant-a',
    monitorId: 'monitor-1',
    slug: 'docs-mcp',
    url: 'http://127.0.0.1:1/mcp',
    confirmAfter: 3,
    recoverAfter: 1,
    ...overrides,
  };
}
