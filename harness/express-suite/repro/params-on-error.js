// node params-on-error.js <express-dir>: a route that ends by next(err), answered by the app's error handler.
const express = require(process.argv[2]);
const { auditLog, memoryStore } = require('../../../dist/index.js');
(async () => {
  const store = memoryStore();
  const audit = auditLog({ store });
  const app = express();
  app.use(audit);
  const users = express.Router();
  users.delete('/:userId', (req, res, next) => next(Object.assign(new Error('nope'), { status: 403 })));
  app.use('/v1/users', users);
  app.use((err, req, res, next) => res.status(err.status).send({ message: err.message }));
  const server = app.listen(0);
  await new Promise((r) => server.once('listening', r));
  const res = await fetch(`http://127.0.0.1:${server.address().port}/v1/users/42`, { method: 'DELETE' });
  await res.text();
  server.close();
  await audit.flush();
  const { docs } = await store.find({
    filter: {},
    sort: [['date', 1]],
    skip: 0,
    limit: 10,
    select: ['statusCode', 'params', 'documents', 'collectionName', 'action'],
  });
  for (const d of docs) {
    delete d._id;
    console.log(JSON.stringify(d));
  }
})();
