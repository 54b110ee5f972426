import type { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { IncomingMessage } from 'node:http';

/** DESIGN §7: a body over 1 MiB is refused with 413 (a full push of 1,000 results fits well under it). */
export const MAX_BODY_BYTES = 1024 * 1024;

/**
 * JSON bodies up to 1 MiB, keeping the exact bytes on `req.rawBody`: receivers check a
 * sender's HMAC over the raw body, which re-serialised JSON would not reproduce.
 */
export function useJsonBodies(app: INestApplication): void {
  (app as NestExpressApplication).useBodyParser('json', {
    limit: MAX_BODY_BYTES,
    type: ['application/json', 'application/*+json'],
    verify: (req: IncomingMessage & { rawBody?: Buffer }, _res: unknown, buffer: Buffer) => {
      req.rawBody = buffer;
    },
  });
}
