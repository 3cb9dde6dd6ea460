/**
 * The query routes on Hapi answer as on Express: the same service behind them, translated.
 */
import http from 'http';
import Hapi from '@hapi/hapi';
import request from 'supertest';
import { auditLogHapi, type AuditLogHapiOptions } from 'express-audit-log/hapi';
import { memoryStore } from 'express-audit-log';
import { hapiDriver, startHapiApp } from '../contract/hapi-driver';
import type { ContractApp } from '../contract/driver';
import { ADMIN, USER } from '../support/app';

describe('the Hapi query routes', () => {
  let app: ContractApp;
  const admin = (path: string) => request(app.url).get(path).set('Authorization', `Bearer ${ADMIN}`);

  beforeAll(async () => {
    app = await hapiDriver.start({ store: memoryStore(), scope: ['admin'] });
    for (const name of ['a', 'b', 'c']) await request(app.url).post('/api/v1/users').set('Authorization', `Bearer ${USER}`).send({ name }).expect(201);
    await request(app.url).post('/fail').send({}).expect(500);
  });
  afterAll(() => app.close());

  it('lists in rest-hapi shape, pages, filters and counts, with no-store', async () => {
    const res = await admin('/auditLog?$limit=2&$page=1&collectionName=users').expect(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.body.docs).toHaveLength(2);
    expect(res.body.items).toEqual({ limit: 2, begin: 1, end: 2, total: 3 });
    expect(res.body.pages).toMatchObject({ current: 1, hasNext: true, total: 2 });
    const count = await admin('/auditLog?$count=true&isError=true').expect(200);
    expect(count.body).toBe(1);
  });

  it('answers 401 without a token, 403 without the scope, 400 naming a bad parameter', async () => {
    const anonymous = await request(app.url).get('/auditLog').expect(401);
    expect(anonymous.headers['www-authenticate']).toBe('Bearer');
    expect(anonymous.body).toMatchObject({ statusCode: 401, error: 'Unauthorized' });
    await request(app.url).get('/auditLog').set('Authorization', 'Bearer not-a-jwt').expect(401);
    await request(app.url).get('/auditLog').set('Authorization', `Bearer ${USER}`).expect(403);
    const bad = await admin('/auditLog?$limit=nope').expect(400);
    expect(bad.body).toMatchObject({ statusCode: 400, parameter: '$limit' });
  });

  it('gets one entry by id, 404 for a missing one, 400 for a malformed id', async () => {
    const [first] = (await admin('/auditLog?$limit=1').expect(200)).body.docs;
    const one = await admin(`/auditLog/${first._id}?$select=action`).expect(200);
    expect(one.body).toEqual({ _id: first._id, action: first.action });
    await admin('/auditLog/0123456789abcdef01234567').expect(404);
    expect((await admin('/auditLog/nope').expect(400)).body.parameter).toBe('id');
  });

  it('is append-only: 405 with Allow on PUT and DELETE', async () => {
    const put = await request(app.url).put('/auditLog').set('Authorization', `Bearer ${ADMIN}`).send({}).expect(405);
    expect(put.headers.allow).toBe('GET, HEAD, POST');
    const del = await request(app.url).delete('/auditLog/0123456789abcdef01234567').set('Authorization', `Bearer ${ADMIN}`).expect(405);
    expect(del.headers.allow).toBe('GET, HEAD');
  });

  it('serves history, stats, openapi.json and the admin page', async () => {
    const [doc] = (await admin('/auditLog?collectionName=users&$limit=1').expect(200)).body.docs;
    const history = await admin(`/auditLog/history/users/${doc.documents[0]}`).expect(200);
    expect(history.body.items.total).toBe(1);
    const stats = await admin('/auditLog/stats').expect(200);
    expect(stats.body).toMatchObject({ count: 4, errors: 1 });
    const openapi = await admin('/auditLog/openapi.json').expect(200);
    expect(openapi.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(openapi.text).openapi).toMatch(/^3\./);
    const page = await request(app.url).get('/auditLog/ui').expect(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toContain("default-src 'none'");
    await request(app.url)
      .get('/auditLog/ui/app.js')
      .expect(200)
      .expect('Content-Type', /javascript/);
    await request(app.url).get('/auditLog/ui/nope.js').expect(404);
  });

  it('exports NDJSON, and records the export', async () => {
    const res = await admin('/auditLog/export?format=ndjson&collectionName=users').expect(200);
    expect(res.headers['content-type']).toMatch(/ndjson/);
    const lines = res.text
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines).toHaveLength(3);
    expect(lines.every((line) => line.collectionName === 'users')).toBe(true);
    const exports = await admin('/auditLog?action=Export').expect(200);
    expect(exports.body.docs[0]).toMatchObject({ action: 'Export', user: 'admin-1', result: { rows: 3, format: 'ndjson', capped: false } });
  });

  it('takes manual entries from authorized callers only, as JSON', async () => {
    const created = await request(app.url)
      .post('/auditLog')
      .set('Authorization', `Bearer ${ADMIN}`)
      .send({ action: 'Approve', collectionName: 'orders', documents: ['o1'] })
      .expect(201);
    expect(created.body).toMatchObject({ action: 'Approve', collectionName: 'orders', user: 'admin-1', documents: ['o1'] });
    await request(app.url).post('/auditLog').set('Authorization', `Bearer ${USER}`).send({ action: 'Approve' }).expect(403);
    await request(app.url).post('/auditLog').set('Authorization', `Bearer ${ADMIN}`).set('Content-Type', 'text/plain').send('x').expect(415);
  });

  it('bounds bodies as on Express: 1 MB for manual entries; a route that refuses the caller does so whatever the body', async () => {
    const notes = 'n'.repeat(20 * 1024);
    await request(app.url).post('/auditLog').set('Authorization', `Bearer ${ADMIN}`).send({ action: 'Note', payload: { notes } }).expect(201);
    // No encryption here: erasure is not offered (404), as on Express, before the body's size counts.
    await request(app.url).post('/auditLog/erasures').set('Authorization', `Bearer ${ADMIN}`).send({ user: notes }).expect(404);
  });

  it('answers 404 under basePath for an unknown route', async () => {
    await admin('/auditLog/history/users').expect(404);
  });
});

describe('bodies of the Hapi query routes', () => {
  it('with getAuth and no strategy: auth is still checked before the body, and a too-large body names the route limit', async () => {
    const server = Hapi.server();
    const getAuth = (r: Hapi.Request) => {
      const user = r.headers['x-user'] as string | undefined;
      return user ? { user, scopes: ['admin'] } : null;
    };
    const options: AuditLogHapiOptions = {
      store: memoryStore(),
      scope: ['admin'],
      holdScope: ['admin'],
      eraseScope: ['admin'],
      encryption: { masterKey: Buffer.alloc(32, 7) },
      getAuth,
    };
    await server.register({ plugin: auditLogHapi, options });
    await server.initialize();
    const big = JSON.stringify({ reason: 'x'.repeat(70 * 1024) });
    const headers = { 'content-type': 'application/json' };
    const anonymous = await server.inject({ method: 'POST', url: '/auditLog/holds', headers, payload: big });
    expect([anonymous.statusCode, JSON.parse(anonymous.payload).message]).toEqual([401, expect.stringMatching(/^Authentication required: .*getAuth/)]);
    const admin = await server.inject({ method: 'POST', url: '/auditLog/holds', headers: { ...headers, 'x-user': 'a' }, payload: big });
    expect([admin.statusCode, JSON.parse(admin.payload)]).toEqual([
      413,
      { statusCode: 413, error: 'Payload Too Large', message: 'The body is too large (64 KB at most).' },
    ]);
    const erasure = await server.inject({
      method: 'POST',
      url: '/auditLog/erasures',
      headers: { ...headers, 'x-user': 'a' },
      payload: JSON.stringify({ user: 'u'.repeat(17 * 1024) }),
    });
    expect([erasure.statusCode, JSON.parse(erasure.payload).message]).toEqual([413, 'The body is too large (16 KB at most).']);
    await server.stop();
  });
});

describe('a refused caller’s body is never read', () => {
  it('an unauthenticated POST whose body has not all arrived gets its 401 at once, as on Express', async () => {
    const server = await startHapiApp({ store: memoryStore(), scope: ['admin'] });
    try {
      const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = http.request({
          host: '127.0.0.1',
          port: server.info.port,
          method: 'POST',
          path: '/auditLog',
          headers: { 'content-type': 'application/json', 'content-length': 500_000 },
        });
        req.on('response', (res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => (body += chunk.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
        // A few bytes of the 500 000 announced: the rest never comes, and need not.
        req.write('{"action":');
      });
      expect(answer.status).toBe(401);
      expect(JSON.parse(answer.body)).toMatchObject({ statusCode: 401, error: 'Unauthorized' });
    } finally {
      await server.stop({ timeout: 100 });
    }
  });
});

describe("a server with default route validation (routes: { validate }), as Hapi's own suite has", () => {
  it("registers, and the plugin's routes check their own input: the app's default query and payload rules do not apply to them", async () => {
    const server = Hapi.server({
      host: '127.0.0.1',
      port: 0,
      routes: {
        validate: {
          // The app's rules for its own routes: a query rule that refuses what the audit routes take, and a payload rule.
          query: async (value: unknown) => {
            if (value && typeof value === 'object' && Object.keys(value).some((key) => key.startsWith('$'))) throw new Error('the app refuses $ parameters');
            return value;
          },
          payload: async (value: unknown) => value,
        },
      },
    });
    await server.register({ plugin: auditLogHapi, options: { store: memoryStore(), publicRoutes: true } });
    server.route({ method: 'POST', path: '/things', handler: (request, h) => h.response(request.payload as object).code(201) });
    await server.start();
    try {
      await request(server.info.uri).post('/things').send({ a: 1 }).expect(201);
      await request(server.info.uri).get('/auditLog/ui').expect(200);
      await request(server.info.uri).post('/auditLog/ui').send('{}').expect(405);
      await server.plugins['express-audit-log'].flush();
      const list = await request(server.info.uri).get('/auditLog?$limit=1&$sort=-date').expect(200);
      expect(list.body.docs.map((d: { endpoint: string }) => d.endpoint)).toEqual(['/things']);
    } finally {
      await server.stop();
    }
  });
});
