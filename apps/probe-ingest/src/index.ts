import type { ServiceDefinition } from '@tocsin/runtime';
import { ProbeIngestModule } from './app.module';

export const probeIngestService: ServiceDefinition = {
  name: 'probe-ingest',
  defaultPort: 8081,
  module: (config) => ProbeIngestModule.forRoot(config),
};
export { nextSlotAfter, phaseMs, slotIndex } from './scheduling/phase';
