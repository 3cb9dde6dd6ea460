// A native ES module Hapi app that imports the plugin by name.
import Hapi from '@hapi/hapi';
import { auditLogHapi, memoryStore } from 'express-audit-log/hapi';
import helpers from './exercise.cjs';
import plugins from './plugin-exercise.cjs';

helpers.report(async () => {
  const server = Hapi.server({ host: '127.0.0.1', port: 0 });
  await server.register({ plugin: auditLogHapi, options: { store: memoryStore(), publicRoutes: true } });
  server.route({ method: 'POST', path: '/things', handler: (request, h) => h.response(request.payload).code(201) });
  return plugins.exercisePlugin(plugins.hapiServer(server));
});
