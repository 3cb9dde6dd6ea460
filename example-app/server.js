/**
 * A small Express 5 + express-jwt API that uses express-audit-log by its package name.
 *
 *   npm start                          embedded SQLite file store (example-app/data/audit.db)
 *   MONGODB_URI=mongodb://... npm start   MongoDB through mongoose
 *
 * At start it prints an admin and a non-admin token and curl lines that work as printed.
 */
const express = require('express');
const { expressjwt } = require('express-jwt');
const jwt = require('jsonwebtoken');
const path = require('node:path');
const { auditLog, fileStore, mongoStore } = require('express-audit-log');
const { createResources } = require('./resources');
const { devKey } = require('./integrity-key');

// Dev only: a real app gets its secret from the environment and its tokens from an identity provider.
const SECRET = process.env.JWT_SECRET || 'example-app-dev-secret-change-me';
const PORT = Number(process.env.PORT || 3000);

/** A path as a command run from the current directory can use it: relative when it is below. */
function shown(file) {
  const relative = path.relative(process.cwd(), file);
  return relative && !relative.startsWith('..') ? relative : file;
}

async function chooseStore() {
  if (!process.env.MONGODB_URI) {
    const file = process.env.AUDIT_DB_PATH || path.join(__dirname, 'data', 'audit.db');
    return {
      store: fileStore({ path: file }),
      label: `embedded SQLite file store (${shown(file)})`,
      dataDir: path.dirname(file),
      connection: null,
      close: async () => {},
    };
  }
  const mongoose = require('mongoose');
  const connection = await mongoose.createConnection(process.env.MONGODB_URI, { serverSelectionTimeoutMS: 5000 }).asPromise();
  return {
    store: mongoStore({ connection }),
    label: `MongoDB (${connection.name}.auditLog)`,
    dataDir: path.join(__dirname, 'data'),
    connection,
    close: () => connection.close(),
  };
}

async function main() {
  const { store, label, dataDir, connection, close } = await chooseStore();
  // Tamper evidence: every entry hash-chained, checkpoints signed with a dev key (see integrity-key.js).
  const key = devKey(dataDir);
  const audit = auditLog({
    store,
    integrity: { signingKey: key.privateKey },
    ttl: '30d',
    scope: ['admin'],
    echoRequestId: true, // responses carry X-Request-Id, so a support ticket can quote it
    associations: { 'users.groups': 'MANY_MANY', 'roles.users': 'ONE_MANY' },
    // Custom actions with message templates: the rendered message is stored and searchable.
    actions: {
      Login: { message: '{user} signed in' },
      'group.archive': { message: '{user} archived group {documents.0}' },
      'book.publish': { message: '{user} published {collectionName} {documents.0}', failureMessage: '{user} failed to publish {documents.0}' },
    },
  });
  audit.on('error', (error) => console.error(`[audit] ${error.code}: ${error.message}`));

  const app = express();
  app.use(express.json());
  // Recorder first: requests that the token check rejects are recorded too.
  app.use(audit.recorder);
  app.use(expressjwt({ secret: SECRET, algorithms: ['HS256'], credentialsRequired: false }));
  app.use(audit); // serves GET /auditLog (admin scope) and the admin page at /auditLog/ui

  if (process.env.NODE_ENV !== 'production') {
    // Dev-only token route: POST /dev/token {"sub":"alice","scope":"admin"}
    app.post('/dev/token', (req, res) => {
      const { sub = 'dev-user', scope = '' } = req.body || {};
      audit.record(req, { action: 'Login', user: String(sub), notes: 'dev token issued' }); // a custom event
      res.json({ token: jwt.sign({ sub: String(sub), scope: String(scope) }, SECRET, { algorithm: 'HS256', expiresIn: '12h' }) });
    });
  }

  if (connection) app.use(require('./books').createBooks(connection)); // the mongoose diff plugin, MongoDB mode only
  app.use(createResources(audit));

  app.use((req, res) => res.status(404).json({ statusCode: 404, error: 'Not Found', message: `No route for ${req.method} ${req.path}` }));
  app.use((error, req, res, next) => {
    const status = error.status || 500;
    res
      .status(status)
      .json({ statusCode: status, error: status === 401 ? 'Unauthorized' : 'Error', message: status === 500 ? 'Internal error' : error.message });
  });

  const server = app.listen(PORT, '127.0.0.1', () => {
    const port = server.address().port;
    const admin = jwt.sign({ sub: 'alice', scope: 'admin' }, SECRET, { algorithm: 'HS256', expiresIn: '12h' });
    const user = jwt.sign({ sub: 'bob', scope: 'user' }, SECRET, { algorithm: 'HS256', expiresIn: '12h' });
    const base = `http://127.0.0.1:${port}`;
    const exportFile = shown(path.join(dataDir, 'audit-export.ndjson'));
    const cli = path.join(__dirname, '..', 'dist', 'cli.js');
    console.log(`example-app listening on ${base}, auditing into the ${label}

Tokens (dev only, valid 12h; more from POST ${base}/dev/token):
  admin (scope admin): ${admin}
  user  (scope user):  ${user}

Try:
  curl -s -X POST ${base}/users -H 'Authorization: Bearer ${user}' -H 'Content-Type: application/json' -d '{"name":"Ada","password":"s3cret"}'
  curl -s -X POST ${base}/groups -H 'Authorization: Bearer ${user}' -H 'Content-Type: application/json' -d '{"name":"ops"}'
  curl -s -X POST ${base}/users -H 'Content-Type: application/json' -d '{"name":"no token"}'
  curl -s '${base}/auditLog?$limit=5' -H 'Authorization: Bearer ${admin}'
  curl -s '${base}/auditLog?user=bob&from=1h&$select=action,endpoint,statusCode,payload' -H 'Authorization: Bearer ${admin}'
  curl -s '${base}/auditLog' -H 'Authorization: Bearer ${user}'        # 403: bob lacks the admin scope

Integrity: entries are hash-chained, checkpoints signed with the dev key ${shown(key.privateKeyPath)}${key.created ? ' (made now)' : ''}.
Verify online, then offline from an export with only the public key:
  curl -s '${base}/auditLog/verify' -H 'Authorization: Bearer ${admin}'
  curl -s '${base}/auditLog/export?format=ndjson' -H 'Authorization: Bearer ${admin}' > ${exportFile} && node ${shown(cli)} verify --file ${exportFile} --public-key ${shown(key.publicKeyPath)} --json
(In an app that installed the package: npx express-audit-log verify --file <export> --public-key <public key>.)

More: POST /groups/<id>/archive runs an audited service function (its own entry, same requestId);
POST /dev/token records a custom Login event; with MONGODB_URI, /books shows the mongoose diff plugin.

Admin page: ${base}/auditLog/ui (paste the admin token)
`);
  });

  const shutdown = async () => {
    server.close();
    await audit.close(5000); // flush queued entries before exit
    await close();
    process.exit(0);
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
