import {
  createParamDecorator,
  Inject,
  Injectable,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import { DataSource } from 'typeorm';
import { TenantContext } from '../tenants/tenant-context';
import { ADMIN_TOKEN } from './admin-token';
import { bearerToken, hashApiKey, safeEqual } from './api-key';
import { clientAddress, RATE_LIMITER, RateLimiter, tooManyRequests } from './rate-limiter';

type AuthedRequest = Request & { tenantId?: string };

/** Operator routes: the admin token from TOCSIN_ADMIN_TOKEN (or the one generated at boot). */
@Injectable()
export class AdminGuard implements CanActivate {
  constructor(@Inject(ADMIN_TOKEN) private readonly adminToken: string) {}

  canActivate(context: ExecutionContext): boolean {
    const token = bearerToken(context.switchToHttp().getRequest<Request>().headers.authorization);
    if (!token || !safeEqual(token, this.adminToken)) throw new UnauthorizedException('a valid admin token is required');
    return true;
  }
}

/**
 * Tenant routes: the tenant comes from the API key, never from the request body. The key is
 * looked up on every request, so a revoked key answers 401 at once; each key has its own
 * rate limit (429 with Retry-After). Unknown keys are limited by client address, and once a
 * client is over that limit its keys are not even looked up: guessing keys, or a client
 * stuck on a stale one, cannot load the database other tenants' requests need.
 */
@Injectable()
export class TenantGuard implements CanActivate {
  constructor(
    private readonly dataSource: DataSource,
    @Inject(RATE_LIMITER) private readonly limiter: RateLimiter,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<AuthedRequest>();
    const key = bearerToken(req.headers.authorization);
    if (!key) throw new UnauthorizedException('Authorization: Bearer <tenant API key> is required');
    const refuse = (wait: number, per: string) => {
      context.switchToHttp().getResponse<Response>().setHeader('Retry-After', String(wait));
      return tooManyRequests(wait, this.limiter, per);
    };
    const unknownKeys = `unknown-key:${clientAddress(req)}`;
    const blocked = this.limiter.peek(unknownKeys);
    if (blocked > 0) throw refuse(blocked, 'client address for unknown API keys');
    const [row]: Array<{ id: string; tenant_id: string; revoked: boolean }> = await this.dataSource.query(
      'SELECT id, tenant_id, revoked_at IS NOT NULL AS revoked FROM api_keys WHERE key_hash = $1',
      [hashApiKey(key)],
    );
    if (!row) {
      const wait = this.limiter.take(unknownKeys);
      if (wait > 0) throw refuse(wait, 'client address for unknown API keys');
      throw new UnauthorizedException('unknown API key');
    }
    if (row.revoked) throw new UnauthorizedException('this API key has been revoked');
    const wait = this.limiter.take(row.id);
    if (wait > 0) throw refuse(wait, 'API key');
    req.tenantId = row.tenant_id;
    TenantContext.bind(row.tenant_id, row.id);
    return true;
  }
}

export const TenantId = createParamDecorator((_: unknown, context: ExecutionContext): string => {
  const tenantId = context.switchToHttp().getRequest<AuthedRequest>().tenantId;
  if (!tenantId) throw new UnauthorizedException('no tenant on this request');
  return tenantId;
});
