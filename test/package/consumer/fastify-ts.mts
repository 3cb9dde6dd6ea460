// TypeScript, module nodenext, compiled to an ES module: the plugin's options and decoration are typed.
import Fastify from 'fastify';
import { auditLogFastify, memoryStore, type AuditLogFastifyOptions } from 'express-audit-log/fastify';
import helpers from './exercise.cjs';
import plugins from './plugin-exercise.cjs';

helpers.report(async () => {
  const app = Fastify();
  const options: AuditLogFastifyOptions = { store: memoryStore(), publicRoutes: true, getUser: (request) => request.headers['x-user'] as string | undefined };
  await app.register(auditLogFastify, options);
  app.post('/things', async (request, reply) => reply.code(201).send(request.body));
  const stats: number = app.auditLog.stats().recorded;
  void stats;
  return plugins.exercisePlugin(plugins.fastifyApp(app));
});
