// A native ES module Fastify app that imports the plugin by name.
import Fastify from 'fastify';
import { auditLogFastify, memoryStore } from 'express-audit-log/fastify';
import helpers from './exercise.cjs';
import plugins from './plugin-exercise.cjs';

helpers.report(async () => {
  const app = Fastify();
  await app.register(auditLogFastify, { store: memoryStore(), publicRoutes: true });
  app.post('/things', async (request, reply) => reply.code(201).send(request.body));
  return plugins.exercisePlugin(plugins.fastifyApp(app));
});
