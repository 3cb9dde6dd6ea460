/**
 * The contract suite's app on Hapi 21: @hapi/jwt as the default strategy in mode 'try' (a
 * request without a token, or with a bad one, still reaches the routes), the audit plugin at
 * the root, and the contract's routes over an in-memory Map per collection.
 */
import Hapi from '@hapi/hapi';
import Jwt from '@hapi/jwt';
import { ObjectId } from 'bson';
import { auditLogHapi, PLUGIN_NAME } from 'express-audit-log/hapi';
import { SECRET } from '../support/app';
import type { ContractApp, FrameworkDriver } from './driver';

type Doc = Record<string, unknown> & { _id: string };

export async function startHapiApp(options: Record<string, unknown>, configure?: (server: Hapi.Server) => void | Promise<void>) {
  const server = Hapi.server({ host: '127.0.0.1', port: 0 });
  await server.register(Jwt);
  server.auth.strategy('jwt', 'jwt', {
    keys: { key: SECRET, algorithms: ['HS256'] },
    verify: { aud: false, iss: false, sub: false, exp: true },
    validate: false,
  });
  server.auth.default({ strategy: 'jwt', mode: 'try' });
  await configure?.(server);
  await server.register({ plugin: auditLogHapi, options });

  const users = new Map<string, Doc>();
  const newId = () => new ObjectId().toHexString();
  const notFound = (h: Hapi.ResponseToolkit) => h.response({ message: 'No resource was found with that id.' }).code(404);
  const body = (request: Hapi.Request) => (request.payload ?? {}) as Record<string, unknown>;

  server.route([
    {
      method: 'POST',
      path: '/api/v1/users',
      handler: (request, h) => {
        const doc = { _id: newId(), ...body(request) };
        users.set(doc._id, doc);
        return h.response(doc).code(201);
      },
    },
    {
      method: 'GET',
      path: '/api/v1/users/{id}',
      handler: (request, h) => users.get(String(request.params.id)) ?? notFound(h),
    },
    {
      method: 'PUT',
      path: '/api/v1/users/{id}',
      handler: (request, h) => {
        const doc = users.get(String(request.params.id));
        if (!doc) return notFound(h);
        const updated = { ...doc, ...body(request) };
        users.set(doc._id, updated);
        return updated;
      },
    },
    {
      method: 'DELETE',
      path: '/api/v1/users/{id}',
      handler: (request, h) => {
        users.delete(String(request.params.id));
        return h.response().code(204);
      },
    },
    {
      method: 'POST',
      path: '/api/v1/users/{id}/roles',
      handler: (request, h) => h.response({ _id: newId(), ownerId: request.params.id, ...body(request) }).code(201),
    },
    {
      method: 'DELETE',
      path: '/api/v1/users/{id}/roles/{roleId}',
      handler: (_request, h) => h.response().code(204),
    },
    { method: 'POST', path: '/auth/login', handler: () => ({ token: 'x' }) },
    { method: 'POST', path: '/fail', handler: (_request, h) => h.response({ message: 'boom' }).code(500) },
  ]);
  await server.start();
  return server;
}

export const hapiDriver: FrameworkDriver = {
  name: 'hapi',
  async start(options): Promise<ContractApp> {
    const server = await startHapiApp(options);
    return {
      url: server.info.uri,
      audit: server.plugins[PLUGIN_NAME],
      close: async () => {
        await server.stop();
      },
    };
  },
};
