/**
 * Who made a request: the user recorded in entries and the auth the query routes check. Read
 * from `getAuth(req)` when the app gives it (passport, sessions, custom auth), else from
 * `req.auth` (express-jwt) at `userIdKey`/`scopeKey`. `getUser(req)` still wins for the user.
 */
import type { Request } from 'express';
import { getPath } from '../capture/path';
import { userString } from '../capture/user-id';
import type { Config } from '../options';

export type AuthSource = Pick<Config, 'userIdKey' | 'scopeKey' | 'getUser' | 'getAuth'>;

/** What the routes need to know: the user id claim and the scope claim, as the auth gave them. */
export interface RequestAuth {
  user: unknown;
  scopes: unknown;
}

function isThenable(value: unknown): boolean {
  return value !== null && typeof value === 'object' && typeof (value as { then?: unknown }).then === 'function';
}

/**
 * The request's auth, or null when it is not authenticated. Throws when `getAuth` throws or
 * returns something else than `{ user, scopes }`, null or undefined (a Promise included: the
 * recorder reads the user synchronously as the response finishes).
 */
export function authOf(req: Request, source: AuthSource): RequestAuth | null {
  if (source.getAuth) {
    const auth = source.getAuth(req);
    if (auth === null || auth === undefined) return null;
    if (typeof auth !== 'object' || Array.isArray(auth) || isThenable(auth)) {
      throw new TypeError(`getAuth(req) must return { user, scopes } or null synchronously; got ${isThenable(auth) ? 'a Promise' : typeof auth}.`);
    }
    return { user: auth.user, scopes: auth.scopes };
  }
  const auth = (req as Request & { auth?: unknown }).auth;
  if (auth === undefined || auth === null) return null;
  return { user: getPath(auth, source.userIdKey), scopes: getPath(auth, source.scopeKey) };
}

/** The user id of a request: `getUser(req)` when given, else the auth's user. Always a string or null; never throws. */
export function userOf(req: Request, source: AuthSource): string | null {
  try {
    return userString(source.getUser ? source.getUser(req) : authOf(req, source)?.user);
  } catch {
    return null; // a throwing getUser or getAuth must not cost the entry
  }
}
