'use strict';
/**
 * Finding HP1 (12 requests in Hapi's own suite: auth.js, payload.js, request.js): a handler that
 * returns null/undefined/'' gets 204 No Content from Hapi (route option response.emptyStatusCode,
 * 204 by default), applied when the response is transmitted, after onPreResponse. The entry says
 * statusCode 200: not what the client got.
 *
 *   npm run build && node harness/hapi-suite/repro/empty-payload-204.js [<hapi-dir>]
 */
const path = require('path');
const Hapi = require(process.argv[2] ? path.resolve(process.argv[2]) : '@hapi/hapi');
const { auditLogHapi } = require('../../../dist/hapi');
const { memoryStore } = require('../../../dist');

(async () => {
  const store = memoryStore();
  const server = Hapi.server();
  await server.register({ plugin: auditLogHapi, options: { store } });
  server.route({ method: 'POST', path: '/things', handler: () => null });
  const res = await server.inject({ method: 'POST', url: '/things', payload: { a: 1 } });
  await server.plugins['express-audit-log'].flush();
  const { docs } = await store.find({ filter: {}, sort: [['date', 1]], skip: 0, limit: 10, select: null });
  console.log(`client got: ${res.statusCode}`);
  console.log(`entry: ${JSON.stringify(docs.map((e) => ({ method: e.method, endpoint: e.endpoint, statusCode: e.statusCode })))}`);
  const ok = docs.length === 1 && docs[0].statusCode === res.statusCode;
  console.log(ok ? 'OK' : 'BUG: the entry does not carry the status the client got');
  process.exitCode = ok ? 0 : 1;
})();
