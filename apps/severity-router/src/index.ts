import type { ServiceDefinition } from '@tocsin/runtime';
import { SeverityRouterModule } from './app.module';

export const severityRouterService: ServiceDefinition = {
  name: 'severity-router',
  defaultPort: 8082,
  module: (config) => SeverityRouterModule.forRoot(config),
};
export { rebuildProjections } from './projections/rebuild-projections';
export { MONITOR_PROJECTION_TABLES } from './projections/monitor.projections';
export { StorageRetention } from './retention/storage-retention.service';
