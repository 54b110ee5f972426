import { type DynamicModule, Global, Module } from '@nestjs/common';
import type { TocsinConfig } from '@tocsin/config';

export const TOCSIN_CONFIG = Symbol('TOCSIN_CONFIG');

/** The config is loaded once at boot (or handed in by a test) and injected everywhere. */
@Global()
@Module({})
export class TocsinConfigModule {
  static forRoot(config: TocsinConfig): DynamicModule {
    return {
      module: TocsinConfigModule,
      providers: [{ provide: TOCSIN_CONFIG, useValue: config }],
      exports: [TOCSIN_CONFIG],
    };
  }
}
