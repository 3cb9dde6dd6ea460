// A CommonJS Fastify app that requires the plugin by name.
const Fastify = require('fastify');
const { auditLogFastify, memoryStore } = require('express-audit-log/fastify');
const { report } = require('./exercise.cjs');
const { exercisePlugin, fastifyApp } = require('./plugin-exercise.cjs');

report(async () => {
  const app = Fastify();
  await app.register(auditLogFastify, { store: memoryStore(), publicRoutes: true });
  app.post('/things', async (request, reply) => reply.code(201).send(request.body));
  return exercisePlugin(fastifyApp(app));
});
