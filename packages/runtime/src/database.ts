import type { DynamicModule } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { TocsinConfig } from '@tocsin/config';
import { dataSourceOptions } from '@tocsin/database';

export function databaseModule(config: TocsinConfig): DynamicModule {
  return TypeOrmModule.forRoot({ ...dataSourceOptions(config.DATABASE_URL), retryAttempts: 5, retryDelay: 1000 });
}
