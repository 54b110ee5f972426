import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import { DataSource } from 'typeorm';
import { ConfigError, loadConfig, type TocsinConfig } from '@tocsin/config';
import { prepareDatabase } from '@tocsin/database';
import { ReadinessRegistry } from './health';
import { requestSpans } from './request-spans';
import { Tracing } from './tracing';

export interface ServiceDefinition {
  readonly name: string;
  readonly defaultPort: number;
  readonly module: (config: TocsinConfig) => unknown;
  /** App-specific HTTP setup (filters, OpenAPI) applied before listening. */
  readonly configure?: (app: INestApplication, config: TocsinConfig) => void;
}

/** Builds an app without listening: used by main.ts and by tests that run apps in-process. */
export async function createService(definition: ServiceDefinition, config: TocsinConfig): Promise<INestApplication> {
  if (config.TOCSIN_MIGRATE_ON_BOOT) await prepareDatabase(config.DATABASE_URL);
  const app = await NestFactory.create(definition.module(config) as never, { bufferLogs: true });
  app.useLogger(app.get(Logger));
  // Before the request log and the routes, which then see the request's span.
  app.use(requestSpans(app.get(Tracing)));
  app.get(ReadinessRegistry).register('database', async () => {
    await app.get(DataSource).query('SELECT 1');
    return true;
  });
  definition.configure?.(app, config);
  app.enableShutdownHooks();
  return app;
}

/** Entry point of every deployable: typed config, listen, drain on SIGTERM. */
export async function runService(definition: ServiceDefinition): Promise<void> {
  let config: TocsinConfig;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${definition.name}: ${err.message}\n`);
      process.exit(78);
    }
    throw err;
  }
  try {
    const app = await createService(definition, config);
    process.once('SIGTERM', () => app.get(ReadinessRegistry).startDraining());
    await app.listen(config.PORT ?? definition.defaultPort, process.env.HOST ?? '0.0.0.0');
    app.get(Logger).log(`${definition.name} listening on ${await app.getUrl()}`);
  } catch (err) {
    // Kafka or Postgres unreachable at boot: say which, then let the orchestrator restart us.
    process.stderr.write(
      `${JSON.stringify({ level: 60, time: Date.now(), service: definition.name, msg: `failed to start: ${(err as Error).message}` })}\n`,
    );
    process.exit(1);
  }
}
