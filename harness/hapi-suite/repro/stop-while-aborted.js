'use strict';
/**
 * Finding HP2, the Hapi side of FY2 (Hapi's own test/payload.js "handles aborted request",
 * test/request.js "... chunked parsing fails (cleanStop false)"): a client aborts a POST while
 * the server is still working on it, then the server stops. The entry is lost: "an entry was
 * recorded after close()" [EAUDIT_CLOSED]; expected: one entry, aborted: true.
 *
 *   npm run build && node harness/hapi-suite/repro/stop-while-aborted.js [<hapi-dir>]
 */
const http = require('http');
const path = require('path');
const Hapi = require(process.argv[2] ? path.resolve(process.argv[2]) : '@hapi/hapi');
const { auditLogHapi } = require('../../../dist/hapi');
const { memoryStore } = require('../../../dist');

(async () => {
  const store = memoryStore();
  const stored = [];
  const insertMany = store.insertMany.bind(store);
  store.insertMany = async (entries) => {
    await insertMany(entries);
    stored.push(...entries);
  };
  const logged = [];
  const server = Hapi.server({ host: '127.0.0.1', port: 0 });
  await server.register({ plugin: auditLogHapi, options: { store, logger: { warn: (m) => logged.push(m), error: (m) => logged.push(m) } } });
  let entered;
  const handlerEntered = new Promise((resolve) => {
    entered = resolve;
  });
  server.route({
    method: 'POST',
    path: '/things',
    handler: async () => {
      entered();
      await new Promise((resolve) => setTimeout(resolve, 50));
      return { ok: true };
    },
  });
  await server.start();
  const clientError = await new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port: server.info.port, method: 'POST', path: '/things', headers: { 'content-type': 'application/json' } });
    req.on('error', resolve);
    req.on('response', () => resolve(new Error('answered')));
    req.end('{"a":1}');
    handlerEntered.then(() => req.destroy());
  });
  await server.stop({ timeout: 10 });
  await new Promise((resolve) => setTimeout(resolve, 300));
  console.log(`client: ${clientError.code || clientError.message}`);
  console.log(`entries stored: ${stored.length} ${JSON.stringify(stored.map((e) => ({ method: e.method, statusCode: e.statusCode, aborted: e.aborted })))}`);
  console.log(`logged: ${JSON.stringify(logged.map((m) => m.slice(0, 90)))}`);
  const ok = stored.length === 1 && stored[0].aborted === true;
  console.log(ok ? 'OK: the aborted request has its entry' : 'BUG: the aborted request that reached the server has no entry');
  process.exitCode = ok ? 0 : 1;
})();
