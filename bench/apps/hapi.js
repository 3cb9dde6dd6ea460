'use strict';
/**
 * The Hapi app: the variant's plugins, then the routes; JSON bodies by Hapi's own payload parser.
 * The counter listens on the HTTP server, beside Hapi.
 */
const Hapi = require('@hapi/hapi');
const items = require('./items');

async function listen(variant, counter) {
  const server = Hapi.server({
    host: '127.0.0.1',
    port: 0,
    debug: false,
    routes: { payload: { maxBytes: items.BODY_LIMIT_BYTES } },
  });
  server.listener.on('request', (req, res) => counter(req, res, () => {}));
  server.listener.keepAliveTimeout = 60_000;
  const audit = variant.register ? await variant.register(server) : null;
  server.route([
    { method: 'POST', path: '/items', handler: (request, h) => h.response(items.create(request.payload)).code(201) },
    { method: 'PUT', path: '/items/{id}', handler: (request) => items.update(request.params.id, request.payload) },
    { method: 'DELETE', path: '/items/{id}', handler: (request) => items.remove(request.params.id) },
    { method: 'GET', path: '/items/{id}', handler: (request) => items.read(request.params.id) },
  ]);
  await server.start();
  return {
    server: server.listener,
    audit,
    close: async () => {
      server.listener.closeAllConnections();
      await server.stop({ timeout: 1000 }); // also closes the audit log (a second close is harmless)
    },
  };
}

module.exports = { listen };
