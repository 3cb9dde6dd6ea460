/**
 * Who made an Express request, and for which tenant (capture/request-identity.ts holds the
 * rules): `getAuth(req)` when the app gives it (passport, sessions, custom auth), else `req.auth`
 * (express-jwt) at `userIdKey`/`scopeKey`; `getUser(req)` still wins for the user.
 */
import type { Request } from 'express';
import { requestIdentity } from '../capture/request-identity';

export type { AuthSource, RequestAuth } from '../capture/request-identity';

export const { authOf, userOf, tenantOf, recordedTenant } = requestIdentity<Request>({
  name: 'req',
  credentials: (req) => (req as Request & { auth?: unknown }).auth,
  describe: (req) => `${req.method} ${req.originalUrl?.split('?')[0] ?? ''}`,
});
