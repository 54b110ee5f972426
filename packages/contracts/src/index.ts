export * from './topics';
export * from './probe-result';
export * from './alert-event';
export * from './validation';
export * from './domain-events';
export * from './version';
export * from './json-schema';
export * from './storable-text';
