import type { ServiceDefinition } from '@tocsin/runtime';
import { DispatcherModule } from './app.module';

export const dispatcherService: ServiceDefinition = {
  name: 'dispatcher',
  defaultPort: 8083,
  module: (config) => DispatcherModule.forRoot(config),
};
