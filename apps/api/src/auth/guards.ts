import {
  createParamDecorator,
  Inject,
  Injectable,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import type { Request } from 'express';
import { DataSource } from 'typeorm';
import { ADMIN_TOKEN } from './admin-token';
import { TenantContext } from '../tenants/tenant-context';
import { bearerToken, hashApiKey, safeEqual } from './api-key';

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

/** Tenant routes: the tenant comes from the API key, never from the request body. */
@Injectable()
export class TenantGuard implements CanActivate {
  constructor(private readonly dataSource: DataSource) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<AuthedRequest>();
    const key = bearerToken(req.headers.authorization);
    if (!key) throw new UnauthorizedException('Authorization: Bearer <tenant API key> is required');
    const [row]: Array<{ id: string; tenant_id: string }> = await this.dataSource.query(
      'SELECT id, tenant_id FROM api_keys WHERE key_hash = $1',
      [hashApiKey(key)],
    );
    if (!row) throw new UnauthorizedException('unknown API key');
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
