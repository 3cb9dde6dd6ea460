/**
 * Who made a Fastify request, and for which tenant: `getAuth(request)` when the app gives it,
 * else `request.user` (where @fastify/jwt puts the verified token) at `userIdKey`/`scopeKey`.
 * `getUser(request)` still wins for the user. The same rules as express/request-user.ts.
 */
import type { FastifyRequest } from 'fastify';
import { getPath } from '../capture/path';
import { userString } from '../capture/user-id';
import { AuditLogStoreError } from '../errors';
import type { Config, TenantConfig } from '../options';
import type { CallerAuth } from '../query/service';
import { tenantString } from '../query/tenant';

export type AuthSource = Pick<Config, 'userIdKey' | 'scopeKey' | 'getUser' | 'getAuth'>;

function isThenable(value: unknown): boolean {
  return value !== null && typeof value === 'object' && typeof (value as { then?: unknown }).then === 'function';
}

/** The request's auth, or null when it is not authenticated. Throws when `getAuth` throws or answers something else than `{ user, scopes }` or null. */
export function authOf(request: FastifyRequest, source: AuthSource): CallerAuth | null {
  if (source.getAuth) {
    const auth = source.getAuth(request);
    if (auth === null || auth === undefined) return null;
    if (typeof auth !== 'object' || Array.isArray(auth) || isThenable(auth)) {
      throw new TypeError(`getAuth(request) must return { user, scopes } or null synchronously; got ${isThenable(auth) ? 'a Promise' : typeof auth}.`);
    }
    return { user: auth.user, scopes: auth.scopes };
  }
  const user = (request as FastifyRequest & { user?: unknown }).user;
  if (user === undefined || user === null || typeof user !== 'object') return null;
  return { user: getPath(user, source.userIdKey), scopes: getPath(user, source.scopeKey) };
}

/** The user id of a request: `getUser(request)` when given, else the auth's user. A string or null; never throws. */
export function userOf(request: FastifyRequest, source: AuthSource): string | null {
  try {
    return userString(source.getUser ? source.getUser(request) : authOf(request, source)?.user);
  } catch {
    return null; // a throwing getUser or getAuth must not cost the entry
  }
}

/** The request's tenant from `getTenant(request)`; throws an AuditLogStoreError (EAUDIT_TENANT) when it throws or returns a Promise. */
export function tenantOf(request: FastifyRequest, tenants: TenantConfig): string | null {
  let value: unknown;
  try {
    value = tenants.getTenant(request);
  } catch (error) {
    throw new AuditLogStoreError(
      'EAUDIT_TENANT',
      `getTenant failed on ${request.method} ${request.url.split('?')[0]}: ${(error as Error)?.message ?? error}`,
      0,
      error,
    );
  }
  if (isThenable(value)) throw new AuditLogStoreError('EAUDIT_TENANT', 'getTenant(request) must return the tenant id synchronously; it returned a Promise.', 0);
  return tenantString(value);
}

/** The tenant an entry stores; never throws (a failing getTenant is reported, the entry stored with no tenant). */
export function recordedTenant(request: FastifyRequest, tenants: TenantConfig, fail: ((error: unknown) => void) | undefined): string | null {
  try {
    return tenantOf(request, tenants);
  } catch (error) {
    fail?.(error);
    return null;
  }
}
