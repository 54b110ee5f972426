export * from './event-store';
export * from './upcasters';
export * from './outbox';
export * from './consumer-offsets';
export * from './data-errors';
