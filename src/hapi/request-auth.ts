/**
 * Who made a Hapi request, and for which tenant (capture/request-identity.ts holds the rules, the
 * same as on Express): `getAuth(request)` when the app gives it, else Hapi's own
 * `request.auth.credentials` of an authenticated request at `userIdKey`/`scopeKey` (with
 * @hapi/jwt, the token's claims: `sub` and `scope` by default).
 */
import type { Request } from '@hapi/hapi';
import { requestIdentity } from '../capture/request-identity';

export type { AuthSource } from '../capture/request-identity';

export const { authOf, userOf, tenantOf, recordedTenant } = requestIdentity<Request>({
  name: 'request',
  // Mode 'try' or 'optional' leaves a failed or missing token unauthenticated: no user, no scopes.
  credentials: (request) => (request.auth?.isAuthenticated ? request.auth.credentials : null),
  describe: (request) => `${request.method.toUpperCase()} ${request.path}`,
});
