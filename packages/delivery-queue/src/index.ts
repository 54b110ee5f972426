export * from './delivery-id';
export * from './stream-writes';
export * from './enqueue';
export * from './requeue';
export * from './endpoint-secrets';
export * from './test-event';
export * from './p1-fallback';
export * from './operational';
