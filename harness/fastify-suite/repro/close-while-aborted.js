'use strict';
/**
 * Finding FY2 (from Fastify's test/issue-4959.test.js): a client aborts a PUT while the app is
 * still working on it (an onSend hook that takes 50 ms), then the app is closed (as a test's
 * t.after or a SIGTERM handler does). The entry is lost: "an entry was recorded after close()"
 * [EAUDIT_CLOSED]; expected: one entry, aborted: true.
 *
 *   npm run build && node harness/fastify-suite/repro/close-while-aborted.js [<fastify-dir>]
 */
const http = require('http');
const path = require('path');
const Fastify = require(process.argv[2] ? path.resolve(process.argv[2], 'fastify.js') : 'fastify');
const { auditLogFastify, memoryStore } = require('../../../dist/fastify');

async function main() {
  const app = Fastify();
  const store = memoryStore();
  const stored = [];
  const insertMany = store.insertMany.bind(store);
  store.insertMany = async (entries) => {
    await insertMany(entries);
    stored.push(...entries);
  };
  const logged = [];
  app.register(auditLogFastify, { store, logger: { warn: (m) => logged.push(m), error: (m) => logged.push(m) } });
  let entered;
  const onSendEntered = new Promise((resolve) => {
    entered = resolve;
  });
  app.addHook('onSend', async (request, reply, payload) => {
    entered();
    await new Promise((resolve) => setTimeout(resolve, 50));
    return payload;
  });
  app.put('/', async () => ({ hello: 'world' }));
  await app.listen({ port: 0, host: '127.0.0.1' });

  const clientError = await new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port: app.server.address().port, method: 'PUT', path: '/', headers: { 'content-type': 'application/json' } });
    req.on('error', resolve);
    req.on('response', () => resolve(new Error('answered')));
    req.end('{"test":"me"}');
    onSendEntered.then(() => req.socket.destroy());
  });
  app.close(); // not awaited, as in the test's t.after(() => fastify.close())
  await new Promise((resolve) => setTimeout(resolve, 300));
  console.log(`client: ${clientError.code || clientError.message}`);
  console.log(
    `entries stored: ${stored.length} ${JSON.stringify(stored.map((e) => ({ method: e.method, endpoint: e.endpoint, statusCode: e.statusCode, aborted: e.aborted })))}`,
  );
  console.log(`logged: ${JSON.stringify(logged)}`);
  const ok = stored.length === 1 && stored[0].aborted === true;
  console.log(ok ? 'OK: the aborted request has its entry' : 'BUG: the aborted request that reached the app has no entry');
  process.exitCode = ok ? 0 : 1;
}
main();
