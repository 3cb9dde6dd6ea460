/**
 * The tenant of an Express request, from the app's `getTenant(req)`. Entries made during the
 * request store it; the query routes read it to restrict what the caller sees (query/tenant.ts).
 */
import type { Request } from 'express';
import { AuditLogStoreError } from '../errors';
import type { TenantConfig } from '../options';
import { tenantString } from '../query/tenant';

/**
 * The request's tenant: a string, or null when `getTenant` returned none or something that is
 * not an id. Throws an AuditLogStoreError (EAUDIT_TENANT) when `getTenant` throws or returns a
 * Promise: a tenant is needed synchronously, when the entry is built.
 */
export function tenantOf(req: Request, tenants: TenantConfig): string | null {
  let value: unknown;
  try {
    value = tenants.getTenant(req);
  } catch (error) {
    throw new AuditLogStoreError(
      'EAUDIT_TENANT',
      `getTenant failed on ${req.method} ${req.originalUrl?.split('?')[0] ?? ''}: ${(error as Error)?.message ?? error}`,
      0,
      error,
    );
  }
  if (value !== null && typeof value === 'object' && typeof (value as { then?: unknown }).then === 'function') {
    throw new AuditLogStoreError('EAUDIT_TENANT', 'getTenant(req) must return the tenant id synchronously; it returned a Promise.', 0);
  }
  return tenantString(value);
}

/**
 * The tenant an entry of this request stores. Never throws: a failing `getTenant` is reported and
 * the entry stored with no tenant, which only callers holding `tenantScope` can read.
 */
export function recordedTenant(req: Request, tenants: TenantConfig, fail: ((error: unknown) => void) | undefined): string | null {
  try {
    return tenantOf(req, tenants);
  } catch (error) {
    fail?.(error);
    return null;
  }
}
