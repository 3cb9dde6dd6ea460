// One audited app anywhere in the process changes res.send for every other Express app in it.
const express = require(process.argv[2]);
const { auditLog, memoryStore } = require('../../../dist/index.js');
async function answer(app) {
  const server = app.listen(0);
  await new Promise((r) => server.once('listening', r));
  const res = await fetch(`http://127.0.0.1:${server.address().port}/`, { method: 'POST' });
  const text = `${res.status} ${JSON.stringify(await res.text())}`;
  server.close();
  return text;
}
(async () => {
  const audited = express();
  audited.use(auditLog({ store: memoryStore() }));
  audited.post('/', (req, res) => res.send('ok'));
  const other = express(); // never sees the audit middleware
  other.post('/', (req, res) => res.send(201, 'Created :)'));
  console.log('other app before any audited request:', await answer(other));
  await answer(audited);
  console.log('other app after one audited request: ', await answer(other));
  console.log('send enumerable on express.response:', Object.getOwnPropertyDescriptor(express.response, 'send').enumerable);
})();
