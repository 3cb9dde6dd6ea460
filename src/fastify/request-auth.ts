/**
 * Who made a Fastify request, and for which tenant (capture/request-identity.ts holds the rules,
 * the same as on Express): `getAuth(request)` when the app gives it, else `request.user` (where
 * @fastify/jwt puts the verified token) at `userIdKey`/`scopeKey`.
 */
import type { FastifyRequest } from 'fastify';
import { requestIdentity } from '../capture/request-identity';

export type { AuthSource } from '../capture/request-identity';

export const { authOf, userOf, tenantOf, recordedTenant } = requestIdentity<FastifyRequest>({
  name: 'request',
  // Only an object is a token's claims.
  credentials: (request) => {
    const user = (request as FastifyRequest & { user?: unknown }).user;
    return typeof user === 'object' ? user : null;
  },
  describe: (request) => `${request.method} ${request.url.split('?')[0]}`,
});
