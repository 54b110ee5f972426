export * from './stack';
export * from './api-client';
export * from './external-prober';
export * from './probe-result-tap';
export * from './alert-producer';
export * from './routes';
export * from './api-process';
export * from './router-fixtures';
