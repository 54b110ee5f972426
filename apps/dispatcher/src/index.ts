import type { ServiceDefinition } from '@tocsin/runtime';
import { DispatcherModule } from './app.module';

export const dispatcherService: ServiceDefinition = {
  name: 'dispatcher',
  defaultPort: 8083,
  module: (config) => DispatcherModule.forRoot(config),
};

/** The queue's claim, for the benchmark that times it against a large delivered history. */
export { DeliveryRepository } from './deliveries/delivery.repository';
