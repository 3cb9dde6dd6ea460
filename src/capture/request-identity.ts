/**
 * Who made a request, and for which tenant, with no web framework: the same rules on every
 * adapter. The auth is `getAuth(req)` when the app gives it, else the verified credentials the
 * framework's usual auth left on the request (express-jwt's `req.auth`, @fastify/jwt's
 * `request.user`, Hapi's `request.auth.credentials`) read at `userIdKey`/`scopeKey`;
 * `getUser(req)` still wins for the user; `getTenant(req)` names the tenant. Each adapter says
 * only where its credentials are and how to name a request in a message.
 */
import { AuditLogStoreError } from '../errors';
import type { Config, TenantConfig } from '../options';
import { tenantString } from '../query/tenant';
import { getPath } from './path';
import { userString } from './user-id';

export type AuthSource = Pick<Config, 'userIdKey' | 'scopeKey' | 'getUser' | 'getAuth'>;

/** What the routes need to know: the user id claim and the scope claim, as the auth gave them. */
export interface RequestAuth {
  user: unknown;
  scopes: unknown;
}

export interface IdentityReader<Req> {
  /** How the app's callbacks call the request in messages: `req` or `request`. */
  name: string;
  /** The verified credentials, or null/undefined when the request is not authenticated. */
  credentials(req: Req): unknown;
  /** `METHOD /path`, for messages. */
  describe(req: Req): string;
}

export interface RequestIdentity<Req> {
  /** The request's auth, or null when it is not authenticated. Throws when `getAuth` throws or answers something else than `{ user, scopes }` or null, a Promise included (the user is read synchronously as the response finishes). */
  authOf(req: Req, source: AuthSource): RequestAuth | null;
  /** The user id: a string or null; never throws (a throwing getUser or getAuth must not cost the entry). */
  userOf(req: Req, source: AuthSource): string | null;
  /** The tenant: a string, or null when there is none or not an id. Throws EAUDIT_TENANT when `getTenant` throws or returns a Promise. */
  tenantOf(req: Req, tenants: TenantConfig): string | null;
  /** The tenant an entry stores; never throws: a failing getTenant is reported and the entry stored with no tenant (readable with tenantScope only). */
  recordedTenant(req: Req, tenants: TenantConfig, fail: ((error: unknown) => void) | undefined): string | null;
}

function isThenable(value: unknown): boolean {
  return value !== null && typeof value === 'object' && typeof (value as { then?: unknown }).then === 'function';
}

export function requestIdentity<Req>(reader: IdentityReader<Req>): RequestIdentity<Req> {
  const authOf = (req: Req, source: AuthSource): RequestAuth | null => {
    if (source.getAuth) {
      const auth = source.getAuth(req as never) as unknown;
      if (auth === null || auth === undefined) return null;
      if (typeof auth !== 'object' || Array.isArray(auth) || isThenable(auth)) {
        throw new TypeError(`getAuth(${reader.name}) must return { user, scopes } or null synchronously; got ${isThenable(auth) ? 'a Promise' : typeof auth}.`);
      }
      const { user, scopes } = auth as RequestAuth;
      return { user, scopes };
    }
    const credentials = reader.credentials(req);
    if (credentials === undefined || credentials === null) return null;
    return { user: getPath(credentials, source.userIdKey), scopes: getPath(credentials, source.scopeKey) };
  };
  const userOf = (req: Req, source: AuthSource): string | null => {
    try {
      return userString(source.getUser ? source.getUser(req as never) : authOf(req, source)?.user);
    } catch {
      return null;
    }
  };
  const tenantOf = (req: Req, tenants: TenantConfig): string | null => {
    let value: unknown;
    try {
      value = tenants.getTenant(req as never);
    } catch (error) {
      throw new AuditLogStoreError('EAUDIT_TENANT', `getTenant failed on ${reader.describe(req)}: ${(error as Error)?.message ?? error}`, 0, error);
    }
    if (isThenable(value)) {
      throw new AuditLogStoreError('EAUDIT_TENANT', `getTenant(${reader.name}) must return the tenant id synchronously; it returned a Promise.`, 0);
    }
    return tenantString(value);
  };
  const recordedTenant = (req: Req, tenants: TenantConfig, fail: ((error: unknown) => void) | undefined): string | null => {
    try {
      return tenantOf(req, tenants);
    } catch (error) {
      fail?.(error);
      return null;
    }
  };
  return { authOf, userOf, tenantOf, recordedTenant };
}
