import type { NextFunction, Request, Response } from 'express';
import { statusName } from './http-exception.filter';

export const JSON_TYPES = ['application/json', 'application/*+json'];
const WITH_BODY = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Paths whose callers are other products' webhooks: they parse their own bodies. */
const OWN_BODY_PATHS = ['/v1/hooks/'];

/**
 * A request that carries a body must say it is JSON; anything else is a 415 naming the type,
 * rather than a body silently read as empty and refused for missing fields.
 */
export function jsonOnly(req: Request, res: Response, next: NextFunction): void {
  const length = req.headers['content-length'];
  const hasBody = req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
  if (!hasBody || !WITH_BODY.has(req.method) || OWN_BODY_PATHS.some((p) => req.path.startsWith(p)) || req.is(JSON_TYPES)) {
    next();
    return;
  }
  const type = req.headers['content-type'];
  res.status(415).json({
    statusCode: 415,
    error: statusName(415),
    message: type
      ? `content-type "${type}" is not supported; send application/json`
      : 'a request body needs content-type: application/json',
  });
}
