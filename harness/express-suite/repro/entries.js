// node entries.js <express-dir>: what the recorder stores for a few ordinary routes.
const express = require(process.argv[2]);
const { auditLog, memoryStore } = require('../../../dist/index.js');
(async () => {
  const store = memoryStore();
  const audit = auditLog({ store });
  const app = express();
  app.use(audit);
  // method-override style: a middleware changes req.method (express's own examples/route-separation does this)
  app.use((req, res, next) => {
    if (req.query._method) req.method = req.query._method;
    next();
  });
  app.put('/user/:id/edit', (req, res) => res.redirect('/user/' + req.params.id));
  app.delete('/pet/:petId', (req, res) => res.sendStatus(204));
  app.post('/pet/:petId/photo', (req, res) => res.status(204).end());
  app.put('/ok/:id', (req, res) => res.json({ ok: true }));
  const server = app.listen(0);
  await new Promise((r) => server.once('listening', r));
  const base = `http://127.0.0.1:${server.address().port}`;
  for (const [method, path] of [
    ['POST', '/user/1/edit?_method=PUT'],
    ['DELETE', '/pet/7'],
    ['POST', '/pet/7/photo'],
    ['PUT', '/ok/3'],
  ]) {
    const res = await fetch(base + path, { method, redirect: 'manual' });
    await res.text();
  }
  server.close();
  await audit.flush();
  const { docs } = await store.find({
    filter: {},
    sort: [['date', 1]],
    skip: 0,
    limit: 100,
    select: ['method', 'endpoint', 'statusCode', 'params', 'action', 'collectionName', 'documents'],
  });
  for (const d of docs) {
    delete d._id;
    console.log(JSON.stringify(d));
  }
})();
