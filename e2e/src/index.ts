export * from './stack';
export * from './api-client';
export * from './external-prober';
export * from './routes';
export * from './api-process';
export * from './router-fixtures';
