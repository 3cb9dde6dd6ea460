// Shared by every consumer: serves the app on 127.0.0.1, makes one POST, reads the list route, and
// checks that exactly that request was recorded, correctly. Also checks the default store: with
// mongoose installed auditLog() opens it lazily, without mongoose it fails clearly at startup.
// Plain CommonJS on purpose: it must not import the package, so each consumer's own import is what is tested.
'use strict';
const assert = require('node:assert/strict');
const http = require('node:http');

function call(port, method, path, body) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(
      { host: '127.0.0.1', port, method, path, headers: data ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } : {} },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode, body: text ? JSON.parse(text) : null }));
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

function hasMongoose() {
  try {
    require.resolve('mongoose', { paths: [process.cwd()] });
    return true;
  } catch {
    return false;
  }
}

/** `app` records into `audit` (memory store, publicRoutes) and has `POST /things` answering 201 with the body. */
async function exercise(app, audit, auditLog) {
  const server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  try {
    const { port } = server.address();
    const created = await call(port, 'POST', '/things', { name: 'packed', password: 'hunter2' });
    assert.equal(created.status, 201);
    assert.deepEqual(created.body, { name: 'packed', password: 'hunter2' }, 'the audit log must not change the answer');
    await audit.flush();
    const list = await call(port, 'GET', '/auditLog');
    assert.equal(list.status, 200, JSON.stringify(list.body));
    assert.equal(list.body.items.total, 1, `exactly one entry: ${JSON.stringify(list.body)}`);
    const [entry] = list.body.docs;
    assert.equal(entry.method, 'POST');
    assert.equal(entry.action, 'Create');
    assert.equal(entry.endpoint, '/things');
    assert.equal(entry.collectionName, 'things');
    assert.equal(entry.statusCode, 201);
    assert.equal(entry.isError, false);
    assert.deepEqual(entry.payload, { name: 'packed', password: '[REDACTED]' });
  } finally {
    await audit.close();
    await new Promise((resolve) => server.close(resolve));
  }

  // The default store is MongoDB on mongoose's default connection.
  if (hasMongoose()) {
    const lazy = auditLog({ routes: false });
    await lazy.close(100);
  } else {
    assert.throws(
      () => auditLog(),
      (error) => error.code === 'EAUDIT_NO_MONGOOSE' && /npm install mongoose/.test(error.message),
    );
  }
  return `1 entry recorded (mongoose ${hasMongoose() ? 'installed' : 'absent'})`;
}

/** Runs a consumer's check and reports it on stdout; a failure exits non-zero with the reason. */
function report(run) {
  run().then(
    (message) => console.log(`ok: ${message}`),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}

module.exports = { exercise, report };
