'use strict';
/**
 * Finding FY3 (Fastify's test/hooks.test.js "onSend hook throws", run with durability: 'journal'):
 * in journal mode the entry is built in the plugin's onSend hook, which runs before the app's
 * own onSend hooks (the plugin is registered first). When one of those fails, Fastify answers
 * 500, but the entry says 200 (and it is journaled as such).
 *
 *   npm run build && node harness/fastify-suite/repro/journal-onsend-error.js [<fastify-dir>]
 */
const fs = require('fs');
const os = require('os');
const path = require('path');
const Fastify = require(process.argv[2] ? path.resolve(process.argv[2], 'fastify.js') : 'fastify');
const { auditLogFastify, memoryStore } = require('../../../dist/fastify');

(async () => {
  const spoolDir = fs.mkdtempSync(path.join(os.tmpdir(), 'eal-repro-spool-'));
  const store = memoryStore();
  const app = Fastify();
  app.register(auditLogFastify, { store, durability: 'journal', spoolDir });
  app.addHook('onSend', async (request) => {
    if (request.method === 'POST') throw new Error('some error');
  });
  app.post('/things', async () => ({ hello: 'world' }));
  const res = await app.inject({ method: 'POST', url: '/things', payload: { a: 1 } });
  await app.auditLog.flush();
  const { docs } = await store.find({ filter: {}, sort: [['date', 1]], skip: 0, limit: 10, select: null });
  await app.close();
  fs.rmSync(spoolDir, { recursive: true, force: true });
  console.log(`client got: ${res.statusCode}`);
  console.log(`entry: ${JSON.stringify(docs.map((e) => ({ method: e.method, endpoint: e.endpoint, statusCode: e.statusCode, isError: e.isError })))}`);
  const ok = docs.length === 1 && docs[0].statusCode === res.statusCode;
  console.log(ok ? 'OK' : 'BUG: the entry does not carry the status the client got');
  process.exitCode = ok ? 0 : 1;
})();
