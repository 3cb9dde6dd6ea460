/**
 * Who made a Hapi request: the user recorded in entries and the auth the query routes check.
 * From `getAuth(request)` when the app gives it, else from Hapi's own `request.auth.credentials`
 * (an authenticated request only) at `userIdKey`/`scopeKey`: with @hapi/jwt the credentials are
 * the token's claims, so `sub` and `scope` by default. `getUser(request)` still wins for the user.
 */
import type { Request } from '@hapi/hapi';
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
export function authOf(request: Request, source: AuthSource): CallerAuth | null {
  if (source.getAuth) {
    const auth = source.getAuth(request);
    if (auth === null || auth === undefined) return null;
    if (typeof auth !== 'object' || Array.isArray(auth) || isThenable(auth)) {
      throw new TypeError(`getAuth(request) must return { user, scopes } or null synchronously; got ${isThenable(auth) ? 'a Promise' : typeof auth}.`);
    }
    return { user: auth.user, scopes: auth.scopes };
  }
  // Mode 'try' or 'optional' leaves a failed or missing token unauthenticated: no user, no scopes.
  const state = request.auth;
  if (!state?.isAuthenticated || !state.credentials) return null;
  const credentials = state.credentials as unknown;
  return { user: getPath(credentials, source.userIdKey), scopes: getPath(credentials, source.scopeKey) };
}

/** The user id of a request; never throws. */
export function userOf(request: Request, source: AuthSource): string | null {
  try {
    return userString(source.getUser ? source.getUser(request) : authOf(request, source)?.user);
  } catch {
    return null; // a throwing getUser or getAuth must not cost the entry
  }
}

/** The request's tenant from `getTenant(request)`; throws an AuditLogStoreError (EAUDIT_TENANT) when it fails or is a Promise. */
export function tenantOf(request: Request, tenants: TenantConfig): string | null {
  let value: unknown;
  try {
    value = tenants.getTenant(request);
  } catch (error) {
    throw new AuditLogStoreError(
      'EAUDIT_TENANT',
      `getTenant failed on ${request.method.toUpperCase()} ${request.path}: ${(error as Error)?.message ?? error}`,
      0,
      error,
    );
  }
  if (isThenable(value)) throw new AuditLogStoreError('EAUDIT_TENANT', 'getTenant(request) must return the tenant id synchronously; it returned a Promise.', 0);
  return tenantString(value);
}
