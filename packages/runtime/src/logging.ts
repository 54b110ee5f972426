import type { DynamicModule } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import type { TocsinConfig } from '@tocsin/config';

/** JSON lines on stdout; request logs skip health and metrics scrapes. */
export function loggingModule(config: TocsinConfig, service: string): DynamicModule {
  return LoggerModule.forRoot({
    pinoHttp: {
      level: config.LOG_LEVEL,
      base: { service },
      autoLogging: { ignore: (req) => /^\/(health|metrics)/.test(req.url ?? '') },
      redact: ['req.headers.authorization', 'req.headers["x-webhook-signature"]'],
      serializers: { req: (req: { method: string; url: string }) => ({ method: req.method, url: req.url }) },
    },
  });
}
