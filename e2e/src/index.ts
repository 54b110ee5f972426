export * from './stack';
export * from './api-client';
