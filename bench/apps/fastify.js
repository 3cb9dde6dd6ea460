'use strict';
/**
 * The Fastify app: the variant's logger (fastify() options) and plugins, then the routes; JSON
 * bodies by Fastify's own parser. The counter listens on the HTTP server, beside Fastify.
 */
const createFastify = require('fastify');
const items = require('./items');

async function listen(variant, counter) {
  const app = createFastify({ bodyLimit: items.BODY_LIMIT_BYTES, keepAliveTimeout: 60_000, ...(variant.appOptions || {}) });
  app.server.on('request', (req, res) => counter(req, res, () => {}));
  const audit = variant.register ? await variant.register(app) : null;
  app.post('/items', async (request, reply) => {
    reply.code(201);
    return items.create(request.body);
  });
  app.put('/items/:id', async (request) => items.update(request.params.id, request.body));
  app.delete('/items/:id', async (request) => items.remove(request.params.id));
  app.get('/items/:id', async (request) => items.read(request.params.id));
  await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    server: app.server,
    audit,
    close: async () => {
      app.server.closeAllConnections();
      await app.close(); // also closes the audit log (a second close is harmless)
    },
  };
}

module.exports = { listen };
