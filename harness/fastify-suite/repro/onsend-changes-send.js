'use strict';
/**
 * Finding FY1 (from Fastify's test/reply-error.test.js, 2 tests): registering the plugin adds
 * an onSend hook to every route, and with any onSend hook Fastify runs reply.send()'s payload
 * checks later, asynchronously. An invalid payload (an object with a non-JSON content type, or
 * a custom serializer returning an object) then no longer throws from reply.send() into the
 * handler's try/catch: the handler's fallback never runs and the client gets a 500 instead.
 * This changes GET routes too, although only POST/PUT/PATCH/DELETE are recorded.
 *
 *   npm run build && node harness/fastify-suite/repro/onsend-changes-send.js [<fastify-dir>]
 */
const path = require('path');
const Fastify = require(process.argv[2] ? path.resolve(process.argv[2], 'fastify.js') : 'fastify');
const { auditLogFastify, memoryStore } = require('../../../dist/fastify');

function routes(app) {
  app.get('/page', (request, reply) => {
    try {
      reply.type('text/html').send({ not: 'html' });
    } catch (error) {
      reply.type('text/plain').send(`fallback: ${error.code}`);
    }
  });
}

async function answer(withPlugin) {
  const app = Fastify();
  if (withPlugin) app.register(auditLogFastify, { store: memoryStore() });
  routes(app);
  const res = await app.inject({ method: 'GET', url: '/page' });
  await app.close();
  return `${res.statusCode} ${res.body.slice(0, 80)}`;
}

(async () => {
  const bare = await answer(false);
  const withPlugin = await answer(true);
  console.log(`bare:        GET /page -> ${bare}`);
  console.log(`with plugin: GET /page -> ${withPlugin}`);
  const same = bare === withPlugin;
  console.log(same ? 'OK: same answer' : 'BUG: the plugin changed the answer of a route it does not even record');
  process.exitCode = same ? 0 : 1;
})();
