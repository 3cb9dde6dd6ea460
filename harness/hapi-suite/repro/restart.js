'use strict';
/**
 * Hapi servers can be stopped and started again (`phase` goes back to 'stopped', start() is
 * allowed). The plugin closes its audit log in onPostStop and never reopens it: after a restart
 * every request is still answered, but every entry is dropped (an EAUDIT_CLOSED 'error' event
 * each). Not exercised by Hapi's suite (no mutating request after a restart); found while
 * triaging the in-flight case (stop-in-flight.js).
 *
 *   npm run build && node harness/hapi-suite/repro/restart.js [<hapi-dir>]
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
  server.route({ method: 'POST', path: '/orders', handler: () => ({ ok: true }) });

  await server.initialize();
  await server.inject({ method: 'POST', url: '/orders' });
  await server.stop();
  await server.initialize(); // or start(): the same server again
  const second = await server.inject({ method: 'POST', url: '/orders' });
  await audit.flush().catch(() => {});

  const { docs } = await store.find({ filter: {}, sort: [['date', 1]], skip: 0, limit: 10, select: null });
  console.log(`second POST answered ${second.statusCode}; entries: ${docs.length} (expected 2); 'error' events: ${JSON.stringify(errors)}`);
  console.log(docs.length === 2 ? 'ok' : 'WRONG: after a restart the plugin records nothing');
  process.exitCode = docs.length === 2 ? 0 : 1;
})();
