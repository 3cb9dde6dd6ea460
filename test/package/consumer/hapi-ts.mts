// TypeScript, module nodenext, compiled to an ES module: the plugin's options and its handle are typed.
import Hapi from '@hapi/hapi';
import { auditLogHapi, memoryStore, type AuditLogHapiOptions } from 'express-audit-log/hapi';
import helpers from './exercise.cjs';
import plugins from './plugin-exercise.cjs';

helpers.report(async () => {
  const server = Hapi.server({ host: '127.0.0.1', port: 0 });
  const options: AuditLogHapiOptions = { store: memoryStore(), publicRoutes: true, getUser: (request) => request.headers['x-user'] as string | undefined };
  await server.register({ plugin: auditLogHapi, options });
  server.route({ method: 'POST', path: '/things', handler: (request, h) => h.response(request.payload as object).code(201) });
  const recorded: number = server.plugins['express-audit-log'].stats().recorded;
  void recorded;
  return plugins.exercisePlugin(plugins.hapiServer(server));
});
