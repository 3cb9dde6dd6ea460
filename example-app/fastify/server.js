/**
 * The audit log on Fastify 5 + @fastify/jwt, by its package name (`express-audit-log/fastify`).
 *
 *   npm run build && node example-app/fastify/server.js   embedded SQLite file store (example-app/data/audit-fastify.db)
 *
 * At start it prints an admin and a non-admin token and curl lines that work as printed.
 */
const path = require('node:path');
const { randomUUID } = require('node:crypto');
const Fastify = require('fastify');
const fastifyJwt = require('@fastify/jwt');
const { auditLogFastify, fileStore } = require('express-audit-log/fastify');

// Dev only: a real app gets its secret from the environment and its tokens from an identity provider.
const SECRET = process.env.JWT_SECRET || 'example-app-dev-secret-change-me';
const PORT = Number(process.env.PORT || 3001);

async function main() {
  const file = process.env.AUDIT_DB_PATH || path.join(__dirname, '..', 'data', 'audit-fastify.db');
  const app = Fastify();
  await app.register(fastifyJwt, { secret: SECRET });
  // Optional auth: a valid token sets request.user (the audit log's user and scopes); none leaves the request anonymous.
  app.addHook('onRequest', async (request) => {
    if (request.headers.authorization) await request.jwtVerify().catch(() => undefined);
  });
  await app.register(auditLogFastify, { store: fileStore({ path: file }), ttl: '30d', scope: ['admin'], echoRequestId: true });
  app.auditLog.on('error', (error) => console.error(`[audit] ${error.code}: ${error.message}`));

  const users = new Map();
  app.post('/users', async (request, reply) => {
    if (!request.user) return reply.code(401).send({ statusCode: 401, error: 'Unauthorized', message: 'Sign in first.' });
    const user = { _id: randomUUID(), ...request.body, createdBy: request.user.sub };
    users.set(user._id, user);
    return reply.code(201).send(user);
  });
  app.get('/users/:id', async (request, reply) => users.get(request.params.id) ?? reply.code(404).send({ message: 'No such user.' }));

  await app.listen({ port: PORT, host: '127.0.0.1' });
  const base = `http://127.0.0.1:${app.server.address().port}`;
  const admin = app.jwt.sign({ sub: 'alice', scope: 'admin' }, { expiresIn: '12h' });
  const user = app.jwt.sign({ sub: 'bob', scope: 'user' }, { expiresIn: '12h' });
  console.log(`example-app (Fastify) listening on ${base}, auditing into ${path.relative(process.cwd(), file) || file}

Tokens (dev only, valid 12h):
  admin (scope admin): ${admin}
  user  (scope user):  ${user}

Try:
  curl -s -X POST ${base}/users -H 'Authorization: Bearer ${user}' -H 'Content-Type: application/json' -d '{"name":"Ada","password":"s3cret"}'
  curl -s -X POST ${base}/users -H 'Content-Type: application/json' -d '{"name":"no token"}'
  curl -s '${base}/auditLog?$select=action,endpoint,user,statusCode,payload' -H 'Authorization: Bearer ${admin}'
  curl -s '${base}/auditLog' -H 'Authorization: Bearer ${user}'        # 403: bob lacks the admin scope

Admin page: ${base}/auditLog/ui (paste the admin token)
`);

  const shutdown = async () => {
    await app.close(); // closes the audit log too: queued entries are written first
    process.exit(0);
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
