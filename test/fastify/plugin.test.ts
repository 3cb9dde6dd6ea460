/**
 * Fastify particulars: where the plugin's hooks apply (encapsulation, prefixes), @fastify/jwt and
 * getAuth, errors thrown by handlers and Fastify's own 404s, the decoration and onClose.
 */
import * as http from 'http';
import Fastify, { type FastifyInstance } from 'fastify';
import fastifyJwt from '@fastify/jwt';
import request from 'supertest';
import { AuditLogConfigError, audited, memoryStore, type AuditEntry } from 'express-audit-log';
import auditLogFastify, { type AuditLogFastifyOptions } from 'express-audit-log/fastify';
import { ADMIN, SECRET, token } from '../support/app';
import { until } from '../support/wait';

const apps: FastifyInstance[] = [];

async function listening(app: FastifyInstance): Promise<string> {
  apps.push(app);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
}

async function withJwt(app: FastifyInstance): Promise<void> {
  await app.register(fastifyJwt, { secret: SECRET });
  app.addHook('onRequest', async (req) => {
    if (req.headers.authorization === undefined) return;
    try {
      await req.jwtVerify();
    } catch {
      // anonymous
    }
  });
}

async function entries(app: FastifyInstance): Promise<Partial<AuditEntry>[]> {
  await app.auditLog.flush();
  const found = await app.auditLog.store?.find({ filter: {}, sort: [['date', 1]], skip: 0, limit: 100, select: null });
  return found?.docs ?? [];
}

afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

describe('auditLogFastify', () => {
  it('records only the routes of the context it is registered in, with their prefixes, and serves its routes there', async () => {
    const app = Fastify();
    await withJwt(app);
    app.post('/outside', async () => ({ ok: true }));
    let audit: FastifyInstance['auditLog'] | undefined;
    await app.register(
      async (api) => {
        await api.register(auditLogFastify, { store: memoryStore(), scope: ['admin'] });
        audit = api.auditLog;
        api.register(
          async (v1) => {
            v1.post<{ Params: { id: string } }>('/users/:id/roles', async (req, reply) => reply.code(201).send({ _id: 'r1', ownerId: req.params.id }));
          },
          { prefix: '/v1' },
        );
      },
      { prefix: '/api' },
    );
    const url = await listening(app);
    await request(url).post('/outside').send({}).expect(200);
    await request(url).post('/api/v1/users/42/roles').set('Authorization', `Bearer ${ADMIN}`).send({ name: 'editor' }).expect(201);
    await audit?.flush();
    const list = await request(url).get('/api/auditLog').set('Authorization', `Bearer ${ADMIN}`).expect(200);
    expect(
      list.body.docs.map((entry: AuditEntry) => [
        entry.endpoint,
        entry.action,
        entry.collectionName,
        entry.childCollectionName,
        entry.documents,
        entry.params,
        entry.user,
      ]),
    ).toEqual([['/api/v1/users/42/roles', 'Add', 'users', 'roles', ['42'], { id: '42' }, 'admin-1']]);
    // The decoration is the plugin's context's, not the root's.
    expect(app.hasDecorator('auditLog')).toBe(false);
    await request(url).get('/auditLog').expect(404);
    const page = await request(url).get('/api/auditLog/ui').expect(200);
    expect(page.text).toContain('<meta name="audit-base-path" content="/api/auditLog">');
  });

  it('records errors thrown by handlers and Fastify’s own 404s with the status the client got', async () => {
    const app = Fastify();
    await app.register(auditLogFastify, { store: memoryStore() });
    app.post('/boom', async () => {
      throw new Error('kaput');
    });
    app.post('/conflict', async () => {
      throw Object.assign(new Error('Already there'), { statusCode: 409 });
    });
    const url = await listening(app);
    await request(url).post('/boom').send({ a: 1 }).expect(500);
    await request(url).post('/conflict').send({}).expect(409);
    await request(url).delete('/nowhere/7').expect(404);
    expect(
      (await entries(app)).map((entry) => [entry.method, entry.endpoint, entry.statusCode, entry.isError, entry.responseMessage, entry.collectionName]),
    ).toEqual([
      ['POST', '/boom', 500, true, 'kaput', 'boom'],
      ['POST', '/conflict', 409, true, 'Already there', 'conflict'],
      ['DELETE', '/nowhere/7', 404, true, 'Route DELETE:/nowhere/7 not found', 'nowhere'],
    ]);
  });

  it('reads the user and scopes from @fastify/jwt’s request.user, or from getAuth when given', async () => {
    const app = Fastify();
    await withJwt(app);
    await app.register(auditLogFastify, {
      store: memoryStore(),
      scope: ['auditor'],
      getAuth: (req) => {
        const user = req.user as { sub?: string; roles?: string[] } | undefined;
        return user ? { user: `u:${user.sub}`, scopes: user.roles ?? [] } : null;
      },
    } satisfies AuditLogFastifyOptions);
    app.post('/things', async () => ({ ok: true }));
    const url = await listening(app);
    const auditor = token({ sub: 'ann', roles: ['auditor'] });
    await request(url).post('/things').set('Authorization', `Bearer ${auditor}`).send({}).expect(200);
    await request(url).get('/auditLog').set('Authorization', `Bearer ${ADMIN}`).expect(403);
    const list = await request(url).get('/auditLog').set('Authorization', `Bearer ${auditor}`).expect(200);
    expect(list.body.docs.map((entry: AuditEntry) => entry.user)).toEqual(['u:ann']);
  });

  it('lends record(), annotate() and the X-Request-Id echo on app.auditLog', async () => {
    const app = Fastify();
    await app.register(auditLogFastify, { store: memoryStore() });
    app.get('/login', async (req) => {
      app.auditLog.record(req, { action: 'Login', collectionName: 'sessions' });
      return { ok: true };
    });
    app.post('/approve', async (req) => {
      app.auditLog.annotate(req, { action: 'Approve', notes: 'by hand' });
      return { ok: true };
    });
    const url = await listening(app);
    const login = await request(url).get('/login').set('X-Request-Id', 'login-42').expect(200);
    expect(login.headers['x-request-id']).toBe('login-42');
    await request(url).post('/approve').send({}).expect(200);
    expect((await entries(app)).map((entry) => [entry.action, entry.collectionName, entry.requestId, entry.notes])).toEqual([
      ['Login', 'sessions', 'login-42', null],
      ['Approve', 'approve', expect.any(String), 'by hand'],
    ]);
  });

  it('runs handlers in the request’s audit context: audited functions share its request id and user', async () => {
    const app = Fastify();
    await withJwt(app);
    await app.register(auditLogFastify, { store: memoryStore() });
    const archive = audited(async (id: string) => ({ archived: id }), {
      audit: app.auditLog,
      action: 'Archive',
      collectionName: 'groups',
      documents: ([id]) => [id],
    });
    app.post<{ Params: { id: string } }>('/groups/:id/archive', async (req) => archive(req.params.id));
    const url = await listening(app);
    await request(url).post('/groups/g7/archive').set('Authorization', `Bearer ${ADMIN}`).set('X-Request-Id', 'archive-1').send({}).expect(200);
    expect((await entries(app)).map((entry) => [entry.action, entry.collectionName, entry.documents, entry.user, entry.requestId]).sort()).toEqual([
      ['Add', 'groups', ['g7'], 'admin-1', 'archive-1'],
      ['Archive', 'groups', ['g7'], 'admin-1', 'archive-1'],
    ]);
  });

  it('refuses manual entries that are not JSON, as on Express', async () => {
    const app = Fastify();
    await withJwt(app);
    await app.register(auditLogFastify, { store: memoryStore(), scope: ['admin'] });
    const url = await listening(app);
    const auth = { Authorization: `Bearer ${ADMIN}` };
    const text = await request(url).post('/auditLog').set(auth).set('Content-Type', 'text/plain').send('hello').expect(415);
    expect(text.body.message).toBe('Send manual entries as JSON with Content-Type: application/json.');
    const broken = await request(url).post('/auditLog').set(auth).set('Content-Type', 'application/json').send('{"action":').expect(400);
    expect(broken.body).toEqual({ statusCode: 400, error: 'Bad Request', message: 'The body is not valid JSON.' });
  });

  it("limits each route's body as Express does, whatever the app's bodyLimit, and names the limit: holds 64 KB, manual entries 1 MB", async () => {
    const app = Fastify({ bodyLimit: 10 * 1024 * 1024 });
    await withJwt(app);
    await app.register(auditLogFastify, { store: memoryStore(), scope: ['admin'], holdScope: ['admin'] });
    const url = await listening(app);
    const auth = { Authorization: `Bearer ${ADMIN}`, 'Content-Type': 'application/json' };
    const hold = await request(url)
      .post('/auditLog/holds')
      .set(auth)
      .send(JSON.stringify({ filter: { blob: 'h'.repeat(70 * 1024) } }))
      .expect(413);
    expect(hold.body.message).toBe('The body is too large (64 KB at most).');
    const entry = await request(url)
      .post('/auditLog')
      .set(auth)
      .send(JSON.stringify({ action: 'Note', blob: 'b'.repeat(1024 * 1024 + 10) }))
      .expect(413);
    expect(entry.body.message).toBe('The body is too large (1 MB at most).');
  });

  it('records a request whose client left before the answer, as aborted', async () => {
    const app = Fastify();
    await app.register(auditLogFastify, { store: memoryStore() });
    let arrived!: () => void;
    const inHandler = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    app.post('/slow', async (req) => {
      arrived();
      await new Promise((resolve) => req.raw.socket.once('close', resolve));
      return { late: true };
    });
    const url = new URL(await listening(app));
    const client = http.request({ host: url.hostname, port: url.port, method: 'POST', path: '/slow', headers: { 'Content-Type': 'application/json' } });
    client.on('error', () => undefined);
    client.end('{"a":1}');
    await inHandler;
    client.destroy();
    await until(() => app.auditLog.stats().recorded === 1, 'the aborted request recorded');
    expect((await entries(app)).map((entry) => [entry.endpoint, entry.statusCode, entry.isError, entry.aborted, entry.payload])).toEqual([
      ['/slow', null, true, true, { a: 1 }],
    ]);
  });

  it('answers 503 when the store fails a read, and reports it through the error event', async () => {
    const failing = new Proxy(memoryStore(), {
      get(target, key) {
        if (key === 'find') return async () => Promise.reject(new Error('store down'));
        const value = Reflect.get(target, key);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const app = Fastify();
    await withJwt(app);
    await app.register(auditLogFastify, { store: failing, scope: ['admin'] });
    const reported: unknown[] = [];
    app.auditLog.on('error', (error) => reported.push(error));
    const url = await listening(app);
    const answer = await request(url).get('/auditLog').set('Authorization', `Bearer ${ADMIN}`).expect(503);
    expect([answer.body, answer.headers['cache-control'], reported.map((error) => (error as Error).message)]).toEqual([
      { statusCode: 503, error: 'Service Unavailable', message: 'The audit store is unavailable; try again later.' },
      'no-store',
      [expect.stringMatching(/store down/)],
    ]);
  });

  it('fails to register with the option named when an option is wrong', async () => {
    const app = Fastify();
    apps.push(app);
    await expect(app.register(auditLogFastify, { ttl: 'forever' } as AuditLogFastifyOptions)).rejects.toBeInstanceOf(AuditLogConfigError);
  });

  it('writes what is queued when Fastify closes', async () => {
    const app = Fastify();
    const store = memoryStore();
    await app.register(auditLogFastify, { store, flushIntervalMs: 60000, batchSize: 1000 });
    app.post('/things', async () => ({ ok: true }));
    const url = await listening(app);
    await request(url).post('/things').send({}).expect(200);
    const stats = app.auditLog.stats();
    await app.close();
    expect([stats.recorded, app.auditLog.stats().written]).toEqual([1, 1]);
  });

  it('registers nothing when disabled', async () => {
    const app = Fastify();
    await app.register(auditLogFastify, { enabled: false });
    app.post('/things', async () => ({ ok: true }));
    const url = await listening(app);
    await request(url).post('/things').send({}).expect(200);
    await request(url).get('/auditLog').expect(404);
    expect([app.auditLog.enabled, app.auditLog.stats().recorded]).toEqual([false, 0]);
  });
});
