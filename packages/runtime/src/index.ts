export * from './config.module';
export * from './health';
export * from './logging';
export * from './database';
export * from './bootstrap';
export * from './polling-loop';
export * from './service-modules';
export * from './secrets.module';
