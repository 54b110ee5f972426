// rebuildDatabaseProjections builds a DataSource from @tocsin/database's decorated entities,
// which need reflect-metadata loaded before they are declared.
import 'reflect-metadata';
import type { ServiceDefinition } from '@tocsin/runtime';
import { SeverityRouterModule } from './app.module';

export const severityRouterService: ServiceDefinition = {
  name: 'severity-router',
  defaultPort: 8082,
  module: (config) => SeverityRouterModule.forRoot(config),
};
export { rebuildProjections, type RebuildOutcome } from './projections/rebuild-projections';
export { rebuildDatabaseProjections, describeDatabase, RebuildFailedError, type DatabaseRebuild } from './projections/rebuild-database';
export { MONITOR_PROJECTION_TABLES } from './projections/monitor.projections';
export { StorageRetention } from './retention/storage-retention.service';
