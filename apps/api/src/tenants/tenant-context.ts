import { AsyncLocalStorage } from 'node:async_hooks';
import type { NextFunction, Request, Response } from 'express';

interface RequestTenancy {
  tenantId?: string;
  keyId?: string;
}

const storage = new AsyncLocalStorage<RequestTenancy>();

/** A tenant-scoped query ran where no authenticated tenant exists: a bug in the route, never a client error. */
export class NoTenantContextError extends Error {
  constructor() {
    super('a tenant-scoped query ran outside an authenticated tenant request');
  }
}

/**
 * The request's tenant, set once by the tenant guard from the API key and read by every
 * tenant-scoped repository. One per request, carried by AsyncLocalStorage so commands and
 * queries dispatched through the buses see it too.
 */
export const TenantContext = {
  /** Express middleware: opens an empty context around the rest of the request. */
  middleware(_req: Request, _res: Response, next: NextFunction): void {
    storage.run({}, next);
  },

  /** Runs `fn` as tenant `tenantId` (tests and background work that act for one tenant). */
  run<T>(tenantId: string, fn: () => T): T {
    return storage.run({ tenantId }, fn);
  },

  bind(tenantId: string, keyId: string): void {
    const store = storage.getStore();
    if (!store) throw new NoTenantContextError();
    store.tenantId = tenantId;
    store.keyId = keyId;
  },

  current(): string | undefined {
    return storage.getStore()?.tenantId;
  },

  currentKeyId(): string | undefined {
    return storage.getStore()?.keyId;
  },

  require(): string {
    const tenantId = storage.getStore()?.tenantId;
    if (!tenantId) throw new NoTenantContextError();
    return tenantId;
  },
};
