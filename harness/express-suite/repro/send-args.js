// node send-args.js <express-dir>   (Express 4: res.send(status, body) is still supported there)
const express = require(process.argv[2]);
const http = require('http');
const { auditLog, memoryStore } = require('../../../dist/index.js');
async function answer(withAudit) {
  const app = express();
  if (withAudit) app.use(auditLog({ store: memoryStore() }));
  app.post('/', (req, res) => res.send(201, 'Created :)'));
  const server = app.listen(0);
  await new Promise((r) => server.once('listening', r));
  const res = await fetch(`http://127.0.0.1:${server.address().port}/`, { method: 'POST' });
  const text = `${res.status} ${JSON.stringify(await res.text())}`;
  server.close();
  return text;
}
(async () => {
  console.log('bare:', await answer(false));
  console.log('with:', await answer(true));
})();
