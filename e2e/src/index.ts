export * from './stack';
export * from './api-client';
export * from './external-prober';
export * from './router-fixtures';
