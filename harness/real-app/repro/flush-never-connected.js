// node harness/real-app/repro/flush-never-connected.js [deadlineMs]
// The default store on a mongoose connection that is never opened (a test file that loads the app
// but never connects): does flush() settle, with nothing queued?
const { auditLog } = require('../../../dist/index.js');
const audit = auditLog({ ttl: '1d' });
const started = Date.now();
const guard = setTimeout(() => {
  console.log(`flush() still pending after 15 s; stats ${JSON.stringify(audit.stats())}`);
  process.exit(1);
}, 15000);
audit.flush(Number(process.argv[2]) || undefined).then(() => {
  console.log(`flush() resolved after ${Date.now() - started} ms`);
  clearTimeout(guard);
  return audit.close(100);
});
