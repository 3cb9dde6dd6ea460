'use strict';
/**
 * A handler that returns nothing (null, undefined, '') is answered 204 by Hapi (the route's
 * `response.emptyStatusCode`, 204 by default): Hapi changes the status while transmitting, after
 * onPreResponse, where the plugin reads it. The entry says 200, the client got 204.
 *
 *   npm run build && node harness/hapi-suite/repro/empty-status.js [<hapi-dir>]
 *
 * (Hapi's suite: 10 POSTs in authentication/payload(), Payload and Request/_tap().)
 */
const path = require('path');
const Hapi = require(process.argv[2] ? path.resolve(process.argv[2]) : '@hapi/hapi');
const { auditLogHapi, memoryStore } = require('../../../dist/hapi');

(async () => {
  const server = Hapi.server();
  const store = memoryStore();
  await server.register({ plugin: auditLogHapi, options: { store } });
  server.route({ method: 'POST', path: '/items', handler: () => null });
  server.route({ method: 'DELETE', path: '/items/{id}', options: { handler: () => '', response: { emptyStatusCode: 200 } } });
  const audit = server.plugins['express-audit-log'];

  const created = await server.inject({ method: 'POST', url: '/items', payload: { a: 1 } });
  const deleted = await server.inject({ method: 'DELETE', url: '/items/7' });
  await audit.flush();
  const { docs } = await store.find({ filter: {}, sort: [['date', 1]], skip: 0, limit: 10, select: null });
  console.log(`POST /items      client got ${created.statusCode}, entry says ${docs[0].statusCode}`);
  console.log(`DELETE /items/7  client got ${deleted.statusCode}, entry says ${docs[1].statusCode} (emptyStatusCode: 200)`);
  const wrong = created.statusCode !== docs[0].statusCode || deleted.statusCode !== docs[1].statusCode;
  console.log(wrong ? 'WRONG: the entry does not say what the client got' : 'ok');
  process.exitCode = wrong ? 1 : 0;
})();
