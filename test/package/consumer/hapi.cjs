// A CommonJS Hapi app that requires the plugin, and a store, by name.
const Hapi = require('@hapi/hapi');
const { auditLogHapi, memoryStore } = require('express-audit-log/hapi');
const { report } = require('./exercise.cjs');
const { exercisePlugin, hapiServer } = require('./plugin-exercise.cjs');

report(async () => {
  const server = Hapi.server({ host: '127.0.0.1', port: 0 });
  await server.register({ plugin: auditLogHapi, options: { store: memoryStore(), publicRoutes: true } });
  server.route({ method: 'POST', path: '/things', handler: (request, h) => h.response(request.payload).code(201) });
  return exercisePlugin(hapiServer(server));
});
