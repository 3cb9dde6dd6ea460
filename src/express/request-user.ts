/** The user id of a request: `getUser(req)` when given, else `req.auth` at `userIdKey`. Always a string or null. */
import type { Request } from 'express';
import { getPath } from '../capture/path';
import { idString } from '../capture/documents';

export function userOf(req: Request, userIdKey: string, getUser: ((req: Request) => unknown) | null): string | null {
  let value: unknown;
  try {
    value = getUser ? getUser(req) : getPath((req as Request & { auth?: unknown }).auth, userIdKey);
  } catch {
    return null; // a throwing getUser must not cost the entry
  }
  return idString(value);
}
