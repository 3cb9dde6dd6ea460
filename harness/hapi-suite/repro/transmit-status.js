'use strict';
/**
 * The plugin reads the status in onPreResponse, but Hapi can still change it while transmitting:
 *
 * 1. A handler that returns nothing (null, undefined, '') is answered 204 (the route's
 *    `response.emptyStatusCode`, 204 by default): the entry says 200. In Hapi's suite: 12 POSTs in
 *    authentication/payload(), Payload and Request/_tap().
 * 2. A handler whose result Hapi cannot serialize (a circular object, a BigInt) is answered 500:
 *    the plugin's own JSON.stringify of the result throws in onPreResponse (an EAUDIT_CAPTURE
 *    'error' event), and the entry says `aborted: true`, `statusCode: null`, "the client closed the
 *    connection", while the client got a 500 and stayed.
 *
 * Reading what was sent on the 'response' event (`request.raw.res.statusCode` when headers were
 * sent, else `request.response`) would give the client's status in both cases.
 *
 *   npm run build && node harness/hapi-suite/repro/transmit-status.js [<hapi-dir>]
 */
const path = require('path');
const Hapi = require(process.argv[2] ? path.resolve(process.argv[2]) : '@hapi/hapi');
const { auditLogHapi, memoryStore } = require('../../../dist/hapi');

(async () => {
  const server = Hapi.server();
  const store = memoryStore();
  await server.register({ plugin: auditLogHapi, options: { store } });
  const audit = server.plugins['express-audit-log'];
  const errors = [];
  audit.on('error', (error) => errors.push(error.code));
  server.route({ method: 'POST', path: '/items', handler: () => null });
  server.route({
    method: 'PUT',
    path: '/items/{id}',
    handler: () => {
      const item = { id: 1 };
      item.self = item;
      return item;
    },
  });

  let wrong = false;
  for (const [method, url] of [
    ['POST', '/items'],
    ['PUT', '/items/1'],
  ]) {
    const res = await server.inject({ method, url, payload: { a: 1 } });
    await audit.flush();
    const { docs } = await store.find({ filter: { method }, sort: [['date', 1]], skip: 0, limit: 10, select: null });
    const entry = docs[0];
    const ok = entry.statusCode === res.statusCode && !entry.aborted;
    wrong ||= !ok;
    console.log(`${method} ${url}: client got ${res.statusCode}; entry: statusCode ${entry.statusCode}, aborted ${entry.aborted}${ok ? '' : '  <- WRONG'}`);
  }
  console.log(`'error' events: ${JSON.stringify(errors)}`);
  process.exitCode = wrong ? 1 : 0;
})();
