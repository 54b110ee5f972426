import { Global, Module, type DynamicModule, type Type } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { EventStore } from '@tocsin/event-store';
import type { TocsinConfig } from '@tocsin/config';
import { TocsinConfigModule } from './config.module';
import { databaseModule } from './database';
import { HealthModule } from './health';
import { loggingModule } from './logging';
import { TracingModule } from './tracing';

/** The event store over the app's TypeORM connection, injectable everywhere. */
@Global()
@Module({
  providers: [{ provide: EventStore, useFactory: (ds: DataSource) => new EventStore(ds), inject: [DataSource] }],
  exports: [EventStore],
})
export class EventStoreModule {}

/** What every app imports: its config, JSON logs, traces, the database and event store, health and metrics. */
export function serviceModules(config: TocsinConfig, service: string): Array<DynamicModule | Type> {
  return [
    TocsinConfigModule.forRoot(config),
    loggingModule(config, service),
    TracingModule.forRoot(config, service),
    databaseModule(config),
    EventStoreModule,
    HealthModule,
  ];
}
