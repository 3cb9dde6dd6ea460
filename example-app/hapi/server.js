/**
 * A small Hapi 21 + @hapi/jwt API that uses express-audit-log/hapi by its package name.
 *
 *   npm run build && node example-app/hapi/server.js
 *
 * Entries go to an embedded SQLite file (example-app/data/audit-hapi.db, or AUDIT_DB_PATH). At
 * start it prints an admin and a non-admin token and curl lines that work as printed.
 */
const path = require('node:path');
const Hapi = require('@hapi/hapi');
const Jwt = require('@hapi/jwt');
const jwt = require('jsonwebtoken');
const { ObjectId } = require('bson');
const { fileStore } = require('express-audit-log');
const { auditLogHapi } = require('express-audit-log/hapi');

// Dev only: a real app gets its secret from the environment and its tokens from an identity provider.
const SECRET = process.env.JWT_SECRET || 'example-app-dev-secret-change-me';
const PORT = Number(process.env.PORT || 3000);

async function main() {
  const server = Hapi.server({ host: '127.0.0.1', port: PORT });
  await server.register(Jwt);
  server.auth.strategy('jwt', 'jwt', {
    keys: { key: SECRET, algorithms: ['HS256'] },
    verify: { aud: false, iss: false, sub: false },
    validate: false,
  });
  // Mode 'try': requests without a token reach the routes (and are recorded with no user).
  server.auth.default({ strategy: 'jwt', mode: 'try' });

  const file = process.env.AUDIT_DB_PATH || path.join(__dirname, '..', 'data', 'audit-hapi.db');
  await server.register({
    plugin: auditLogHapi,
    options: { store: fileStore({ path: file }), ttl: '30d', scope: ['admin'], echoRequestId: true },
  });
  const audit = server.plugins['express-audit-log'];
  audit.on('error', (error) => console.error(`[audit] ${error.code}: ${error.message}`));

  const users = new Map();
  server.route([
    {
      method: 'POST',
      path: '/users',
      handler: (request, h) => {
        const user = { _id: new ObjectId().toHexString(), ...(request.payload || {}) };
        users.set(user._id, user);
        return h.response(user).code(201);
      },
    },
    {
      method: 'PUT',
      path: '/users/{id}',
      handler: (request, h) => {
        const user = users.get(request.params.id);
        if (!user) return h.response({ message: 'No resource was found with that id.' }).code(404);
        return Object.assign(user, request.payload || {});
      },
    },
  ]);

  await server.start();
  const base = server.info.uri;
  const admin = jwt.sign({ sub: 'alice', scope: 'admin' }, SECRET, { algorithm: 'HS256', expiresIn: '12h' });
  const user = jwt.sign({ sub: 'bob', scope: 'user' }, SECRET, { algorithm: 'HS256', expiresIn: '12h' });
  console.log(`example-app (Hapi) listening on ${base}, auditing into ${path.relative(process.cwd(), file) || file}

Tokens (dev only, valid 12h):
  admin (scope admin): ${admin}
  user  (scope user):  ${user}

Try:
  curl -s -X POST ${base}/users -H 'Authorization: Bearer ${user}' -H 'Content-Type: application/json' -d '{"name":"Ada","password":"s3cret"}'
  curl -s '${base}/auditLog?$limit=5' -H 'Authorization: Bearer ${admin}'
  curl -s '${base}/auditLog' -H 'Authorization: Bearer ${user}'        # 403: bob lacks the admin scope

Admin page: ${base}/auditLog/ui (paste the admin token)
`);

  const shutdown = async () => {
    await server.stop({ timeout: 5000 }); // closes the audit store too, flushing queued entries
    process.exit(0);
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
