// The Fastify and Hapi consumers' check: with the app serving on 127.0.0.1, makes one POST, reads the
// list route, and checks that exactly that request was recorded, correctly; then closes the app (and
// with it the audit log). Also checks that npm did not install Express: it is an optional peer, and a
// Fastify or Hapi app must run without it.
// Plain CommonJS on purpose: it must not import the package, so each consumer's own import is what is tested.
'use strict';
const assert = require('node:assert/strict');

/**
 * `app`: { framework, start(): Promise<base URL>, flush(): Promise, close(): Promise }, serving the
 * plugin (memory store, publicRoutes) and `POST /things` answering 201 with the body.
 */
async function exercisePlugin(app) {
  assert.throws(() => require.resolve('express', { paths: [process.cwd()] }), /Cannot find module/, 'express must not be installed');
  const base = await app.start();
  try {
    const created = await fetch(`${base}/things`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'packed', password: 'hunter2' }),
    });
    assert.equal(created.status, 201);
    assert.deepEqual(await created.json(), { name: 'packed', password: 'hunter2' }, 'the audit log must not change the answer');
    await app.flush();
    const list = await fetch(`${base}/auditLog`);
    const body = await list.json();
    assert.equal(list.status, 200, JSON.stringify(body));
    assert.equal(body.items.total, 1, `exactly one entry: ${JSON.stringify(body)}`);
    const [entry] = body.docs;
    assert.deepEqual(
      [entry.method, entry.action, entry.endpoint, entry.collectionName, entry.statusCode, entry.payload],
      ['POST', 'Create', '/things', 'things', 201, { name: 'packed', password: '[REDACTED]' }],
    );
  } finally {
    await app.close();
  }
  return `1 entry recorded (${app.framework}, without express)`;
}

/** A Fastify app that registered the plugin. */
function fastifyApp(app) {
  return {
    framework: 'fastify',
    start: async () => {
      await app.listen({ port: 0, host: '127.0.0.1' });
      return `http://127.0.0.1:${app.server.address().port}`;
    },
    flush: () => app.auditLog.flush(),
    close: () => app.close(),
  };
}

/** A Hapi server (host 127.0.0.1, port 0) that registered the plugin. */
function hapiServer(server) {
  return {
    framework: 'hapi',
    start: async () => {
      await server.start();
      return server.info.uri;
    },
    flush: () => server.plugins['express-audit-log'].flush(),
    close: () => server.stop(),
  };
}

module.exports = { exercisePlugin, fastifyApp, hapiServer };
