'use strict';
/**
 * A request still in flight when the server stops loses its entry: `server.stop({ timeout })`
 * destroys the connections still open at the timeout, runs onPostStop (where the plugin closes
 * its audit log) and only then does Hapi finish those requests (the 'response' event, where the
 * plugin builds the entry): the entry is dropped with an EAUDIT_CLOSED 'error' event. The
 * client's request reached the app (here it ran to the end of its handler) but has no entry, not
 * even an `aborted: true` one.
 *
 *   npm run build && node harness/hapi-suite/repro/stop-in-flight.js [<hapi-dir>]
 *
 * (Hapi's suite: "Payload :: handles aborted request" and "Request/timeout :: returns a bad
 * request for POST request when chunked parsing fails (cleanStop false)".)
 */
const http = require('http');
const path = require('path');
const Hapi = require(process.argv[2] ? path.resolve(process.argv[2]) : '@hapi/hapi');
const { auditLogHapi, memoryStore } = require('../../../dist/hapi');

(async () => {
  const server = Hapi.server({ host: '127.0.0.1', port: 0 });
  const store = memoryStore();
  await server.register({ plugin: auditLogHapi, options: { store } });
  const errors = [];
  server.plugins['express-audit-log'].on('error', (error) => errors.push(error.code));
  let release;
  const inHandler = new Promise((resolve) => {
    server.route({
      method: 'POST',
      path: '/orders',
      handler: async () => {
        resolve();
        await new Promise((r) => (release = r)); // a slow handler: still running when the server stops
        return { ok: true };
      },
    });
  });
  await server.start();

  const req = http.request({ host: '127.0.0.1', port: server.info.port, method: 'POST', path: '/orders', headers: { 'content-type': 'application/json' } });
  req.on('error', () => {}); // the server cuts the connection at stop's timeout
  req.end('{"item":1}');
  await inHandler;

  await server.stop({ timeout: 50 }); // graceful shutdown: waits 50 ms for the request, then cuts it
  release();
  await new Promise((r) => setTimeout(r, 100));

  const { docs } = await store.find({ filter: {}, sort: [['date', 1]], skip: 0, limit: 10, select: null });
  console.log(`entries: ${docs.length}; 'error' events: ${JSON.stringify(errors)}`);
  console.log(
    docs.length === 1
      ? `ok: ${JSON.stringify({ aborted: docs[0].aborted, statusCode: docs[0].statusCode })}`
      : 'WRONG: the request that reached the app has no entry',
  );
  process.exitCode = docs.length === 1 ? 0 : 1;
})();
