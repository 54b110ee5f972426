export * from './entities/tenant.entity';
export * from './entities/monitor.entity';
export * from './entities/endpoint.entity';
export * from './entities/read-models.entity';
export * from './entities/receiver.entity';
export * from './entities/router.entity';
export * from './data-source';
export * from './operator-connection';
