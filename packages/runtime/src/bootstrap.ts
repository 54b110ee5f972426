import type { Server, ServerResponse } from 'node:http';
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
    drainOnSignals(app, definition.name, config.TOCSIN_SHUTDOWN_TIMEOUT_MS);
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

/**
 * SIGTERM or SIGINT: readiness goes false first (the Service stops sending traffic), then the
 * app closes: loops and consumers stop taking work, in-flight probes, batches and attempts
 * finish and are recorded, leases are released, producers and pools close. Exit 0 when that
 * is done, 1 if it took longer than `timeoutMs` or failed; a second signal exits at once.
 */
/**
 * A client that keeps one connection busy (a prober pushing every few milliseconds) would
 * hold the HTTP server's close open until the deadline, as close() only drops idle
 * connections. While draining, every answer says `connection: close`, and idle connections
 * are dropped as soon as they are, so each connection ends after the request it is serving.
 */
function releaseKeptAliveConnections(app: INestApplication): void {
  const server = app.getHttpServer() as Server | undefined;
  if (!server?.on) return;
  server.on('request', (_req, res: ServerResponse) => {
    if (!res.headersSent) res.setHeader('connection', 'close');
  });
  server.closeIdleConnections();
  const sweep = setInterval(() => server.closeIdleConnections(), 50);
  sweep.unref();
  server.once('close', () => clearInterval(sweep));
}

function drainOnSignals(app: INestApplication, name: string, timeoutMs: number): void {
  let draining = false;
  const drain = (signal: NodeJS.Signals) => {
    const logger = app.get(Logger);
    if (draining) {
      logger.warn(`${name}: ${signal} again while draining; exiting now`);
      process.exit(1);
    }
    draining = true;
    app.get(ReadinessRegistry).startDraining();
    logger.log(`${name}: ${signal}, draining (readiness false), at most ${timeoutMs} ms`);
    const startedAt = Date.now();
    const deadline = setTimeout(() => {
      logger.error(`${name}: still draining after ${timeoutMs} ms (TOCSIN_SHUTDOWN_TIMEOUT_MS); exiting with work unfinished`);
      process.exit(1);
    }, timeoutMs);
    deadline.unref();
    releaseKeptAliveConnections(app);
    app.close().then(
      () => {
        clearTimeout(deadline);
        logger.log(`${name}: drained in ${Date.now() - startedAt} ms`);
        process.exit(0);
      },
      (err: Error) => {
        logger.error(`${name}: draining failed: ${err.message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', drain);
  process.on('SIGINT', drain);
}
