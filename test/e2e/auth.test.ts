/** Who may read the audit log: 401 without auth, 403 without the scope, hapi scope rules, public only when asked. */
import express from 'express';
import { expressjwt } from 'express-jwt';
import request from 'supertest';
import { auditLog, memoryStore } from 'express-audit-log';
import { SECRET, createTestApp, token } from '../support/app';
import { settle } from '../support/wait';

describe('query route access', () => {
  const { app, audit } = createTestApp({ store: memoryStore(), scope: ['admin', 'auditor', '+audit:read', '!suspended'] });
  afterAll(() => audit.close());

  const as = (claims: Record<string, unknown> | null) => {
    const req = request(app).get('/auditLog');
    return claims ? req.set('Authorization', `Bearer ${token(claims)}`) : req;
  };

  test.each([
    ['no token', null, 401],
    ['a plain scope but not the required +scope', { sub: 'a', scope: 'admin' }, 403],
    ['every needed scope, as a space-separated string', { sub: 'a', scope: 'admin audit:read' }, 200],
    ['every needed scope, as an array', { sub: 'a', scope: ['auditor', 'audit:read'] }, 200],
    ['the required scope without any of the plain ones', { sub: 'a', scope: 'audit:read' }, 403],
    ['a forbidden scope', { sub: 'a', scope: 'admin audit:read suspended' }, 403],
    ['a scope claim of the wrong type', { sub: 'a', scope: 42 }, 403],
  ])('%s (%j) → %i', async (_name, claims, status) => {
    const res = await as(claims);
    expect(res.status).toBe(status);
    if (status !== 200) {
      expect(res.body).toEqual({ statusCode: status, error: status === 401 ? 'Unauthorized' : 'Forbidden', message: expect.any(String) });
      expect(res.headers['cache-control']).toBe('no-store');
    }
    if (status === 401) expect(res.headers['www-authenticate']).toBe('Bearer');
  });

  test('a bad signature or an expired token never reaches the routes', async () => {
    const forged = request(app)
      .get('/auditLog')
      .set('Authorization', `Bearer ${token({ sub: 'a', scope: 'admin audit:read' }).slice(0, -4)}AAAA`);
    expect((await forged).status).toBe(401);
    const expired = request(app)
      .get('/auditLog')
      .set('Authorization', `Bearer ${token({ sub: 'a', scope: 'admin audit:read' }, { expiresIn: -60 })}`);
    expect((await expired).status).toBe(401);
  });
});

test('custom scopeKey reads scopes from a dotted path', async () => {
  const { app, audit } = createTestApp({ store: memoryStore(), scope: 'admin', scopeKey: 'permissions.roles' });
  await request(app)
    .get('/auditLog')
    .set('Authorization', `Bearer ${token({ sub: 'a', permissions: { roles: ['admin'] } })}`)
    .expect(200);
  await request(app)
    .get('/auditLog')
    .set('Authorization', `Bearer ${token({ sub: 'a', scope: 'admin' })}`)
    .expect(403);
  await audit.close();
});

test('without a scope option any authenticated caller may read; anonymous may not', async () => {
  const { app, audit } = createTestApp({ store: memoryStore() });
  await request(app).get('/auditLog').expect(401);
  await request(app)
    .get('/auditLog')
    .set('Authorization', `Bearer ${token({ sub: 'anyone' })}`)
    .expect(200);
  await audit.close();
});

test('publicRoutes: true serves the routes without auth (explicit opt-in only)', async () => {
  const { app, audit } = createTestApp({ store: memoryStore(), publicRoutes: true });
  await request(app).get('/auditLog').expect(200);
  await audit.close();
});

test('mounting the recorder before the auth middleware records requests the auth rejects', async () => {
  const audit = auditLog({ store: memoryStore(), scope: 'admin' });
  const app = express();
  app.use(express.json());
  app.use(audit.recorder);
  app.use(expressjwt({ secret: SECRET, algorithms: ['HS256'] }));
  app.use(audit);
  app.post('/things', (_req, res) => {
    res.status(201).json({ id: 1 });
  });
  app.use((error: Error & { status?: number }, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    res.status(error.status ?? 500).json({ message: error.message });
  });
  await request(app).post('/things').send({ a: 1 }).expect(401);
  await request(app).post('/things').set('Authorization', 'Bearer not.a.jwt').send({ a: 1 }).expect(401);
  await request(app)
    .post('/things')
    .set('Authorization', `Bearer ${token({ sub: 'u1', scope: 'user' })}`)
    .send({ a: 1 })
    .expect(201);
  await settle(audit, 3);
  const res = await request(app)
    .get('/auditLog')
    .set('Authorization', `Bearer ${token({ sub: 'boss', scope: 'admin' })}`)
    .expect(200);
  const byStatus = res.body.docs.map((d: { statusCode: number; user: string | null; responseMessage: string | null }) => [d.statusCode, d.user]).sort();
  expect(byStatus).toEqual([
    [201, 'u1'],
    [401, null],
    [401, null],
  ]);
  expect(audit.stats().recorded).toBe(3); // recorder + full middleware on one request: recorded once
  await audit.close();
});
