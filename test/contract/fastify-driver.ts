/** The contract app on Fastify 5 (see driver.ts): @fastify/jwt's request.user, Fastify's JSON parser, the auditLogFastify plugin. */
import Fastify from 'fastify';
import fastifyJwt from '@fastify/jwt';
import { ObjectId } from 'bson';
import auditLogFastify from 'express-audit-log/fastify';
import { SECRET } from '../support/app';
import { NOT_FOUND, type FrameworkDriver } from './driver';

const newId = () => new ObjectId().toHexString();

export const fastifyDriver: FrameworkDriver = {
  name: 'fastify',
  async start(options) {
    const app = Fastify();
    await app.register(fastifyJwt, { secret: SECRET });
    // Optional auth: a valid token sets request.user; none (or a bad one) leaves the request anonymous.
    app.addHook('onRequest', async (request) => {
      if (request.headers.authorization === undefined) return;
      try {
        await request.jwtVerify();
      } catch {
        // anonymous
      }
    });
    await app.register(auditLogFastify, options);
    const users = new Map<string, Record<string, unknown>>();
    type Params = { id: string };
    type Body = Record<string, unknown>;

    app.post<{ Body: Body }>('/api/v1/users', async (request, reply) => {
      const doc = { _id: newId(), ...request.body };
      users.set(doc._id, doc);
      return reply.code(201).send(doc);
    });
    app.get<{ Params: Params }>('/api/v1/users/:id', async (request, reply) => {
      const doc = users.get(request.params.id);
      return doc ? doc : reply.code(404).send(NOT_FOUND);
    });
    app.put<{ Params: Params; Body: Body }>('/api/v1/users/:id', async (request, reply) => {
      const doc = users.get(request.params.id);
      if (!doc) return reply.code(404).send(NOT_FOUND);
      const updated = { ...doc, ...request.body };
      users.set(request.params.id, updated);
      return updated;
    });
    app.delete<{ Params: Params }>('/api/v1/users/:id', async (request, reply) => {
      users.delete(request.params.id);
      return reply.code(204).send();
    });
    app.post<{ Params: Params; Body: Body }>('/api/v1/users/:id/roles', async (request, reply) =>
      reply.code(201).send({ _id: newId(), ownerId: request.params.id, ...request.body }),
    );
    app.delete('/api/v1/users/:id/roles/:roleId', async (_request, reply) => reply.code(204).send());
    app.post('/auth/login', async () => ({ token: 'x' }));
    app.post('/fail', async (_request, reply) => reply.code(500).send({ message: 'boom' }));

    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    return {
      url: `http://127.0.0.1:${port}`,
      audit: app.auditLog,
      // Fastify's onClose closes the audit log too.
      close: () => app.close(),
    };
  },
};
