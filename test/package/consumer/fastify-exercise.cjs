// The Fastify consumers' check: serves the app on 127.0.0.1, makes one POST, reads the list route,
// and checks that exactly that request was recorded, correctly; then closes Fastify (and the audit log).
// Plain CommonJS on purpose: it must not import the package, so each consumer's own import is what is tested.
'use strict';
const assert = require('node:assert/strict');

/** `app` registered the plugin (memory store, publicRoutes) and has `POST /things` answering 201 with the body. */
async function exerciseFastify(app) {
  await app.listen({ port: 0, host: '127.0.0.1' });
  try {
    const base = `http://127.0.0.1:${app.server.address().port}`;
    const created = await fetch(`${base}/things`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'packed', password: 'hunter2' }),
    });
    assert.equal(created.status, 201);
    assert.deepEqual(await created.json(), { name: 'packed', password: 'hunter2' }, 'the audit log must not change the answer');
    await app.auditLog.flush();
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
  return '1 entry recorded (fastify)';
}

module.exports = { exerciseFastify };
