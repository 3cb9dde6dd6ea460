/**
 * Where the Fastify recorder puts its hooks: a route that cannot be recorded (a GET) carries none
 * but the one global onRequest; a route that can gets its onSend; and what onRoute never saw
 * (routes declared before the plugin, Fastify's 404s, the app's not-found handler) is recorded
 * exactly as a route that got the hook.
 */
import * as http from 'http';
import * as zlib from 'zlib';
import Fastify, { type FastifyInstance } from 'fastify';
import fastifyJwt from '@fastify/jwt';
import request from 'supertest';
import { audited, memoryStore, type AuditEntry } from 'express-audit-log';
import auditLogFastify, { type AuditLogFastifyOptions } from 'express-audit-log/fastify';
import { ADMIN, SECRET } from '../support/app';

const apps: FastifyInstance[] = [];

async function listening(app: FastifyInstance): Promise<string> {
  apps.push(app);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
}

async function entries(app: FastifyInstance): Promise<AuditEntry[]> {
  await app.auditLog.flush();
  const found = await app.auditLog.store?.find({ filter: {}, sort: [['date', 1]], skip: 0, limit: 100, select: null });
  return (found?.docs ?? []) as AuditEntry[];
}

/** The hooks of each route, by name, as Fastify prints them: `{ 'POST /write': { onSend: ['auditLogOnSend()'] } }`. */
function hooksByRoute(app: FastifyInstance): Record<string, Record<string, string[]>> {
  const routes: Record<string, Record<string, string[]>> = {};
  let current: Record<string, string[]> | null = null;
  for (const line of app.printRoutes({ includeHooks: true, commonPrefix: false }).split('\n')) {
    const route = /(\/\S*) \(([A-Z, ]+)\)$/.exec(line);
    const hook = /• \((\w+)\) (\[.*\])$/.exec(line);
    if (route) {
      current = {};
      routes[`${route[2] ?? ''} ${route[1] ?? ''}`] = current;
    } else if (hook && current) {
      current[hook[1] ?? ''] = JSON.parse(hook[2] ?? '[]') as string[];
    }
  }
  return routes;
}

/** What an entry says about its request, apart from what differs between two requests (ids, dates, paths). */
function facts(entry: AuditEntry): unknown[] {
  return [entry.method, entry.statusCode, entry.isError, entry.action, entry.payload, entry.result, entry.responseMessage, entry.params, entry.user];
}

afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

describe('the Fastify recorder’s hooks', () => {
  it('gives a route that cannot be recorded no hook but the global onRequest, and a route that can its onSend', async () => {
    const app = Fastify();
    apps.push(app);
    await app.register(auditLogFastify, { store: memoryStore(), routes: false });
    app.get('/read/:id', async () => ({ ok: true }));
    app.post('/write', { onSend: async (_request, _reply, payload) => payload }, async () => ({ ok: true }));
    app.route({ method: ['GET', 'DELETE'], url: '/both', handler: async () => ({ ok: true }) });
    await app.ready();
    const hooks = hooksByRoute(app);
    expect([hooks['GET /read/:id'], hooks['HEAD /read/:id'], hooks['POST /write'], hooks['GET, DELETE /both']]).toEqual([
      { onRequest: ['auditLogOnRequest()'] },
      { onRequest: ['auditLogOnRequest()'], onSend: ['headRouteOnSendHandler()'] },
      // First among the route's own onSend hooks, as the global hook was.
      { onRequest: ['auditLogOnRequest()'], onSend: ['auditLogOnSend()', 'onSend()'] },
      { onRequest: ['auditLogOnRequest()'], onSend: ['auditLogOnSend()'] },
    ]);
  });

  it('follows the recorded methods: with GET among them, GET routes get the onSend too', async () => {
    const app = Fastify();
    apps.push(app);
    await app.register(auditLogFastify, { store: memoryStore(), routes: false, methods: ['GET', 'POST'] });
    app.get('/read', async () => ({ ok: true }));
    app.delete('/gone', async () => ({ ok: true }));
    await app.ready();
    const hooks = hooksByRoute(app);
    expect([hooks['GET /read'], hooks['DELETE /gone']]).toEqual([
      { onRequest: ['auditLogOnRequest()'], onSend: ['auditLogOnSend()'] },
      { onRequest: ['auditLogOnRequest()'] },
    ]);
  });

  it('records a route declared before the plugin, Fastify’s own 404 and the app’s not-found handler as it records a route declared after', async () => {
    const app = Fastify();
    await app.register(fastifyJwt, { secret: SECRET });
    app.addHook('onRequest', async (req) => {
      if (req.headers.authorization) await req.jwtVerify().catch(() => undefined);
    });
    const route = async (req: { params: unknown; body: unknown }, reply: { code(status: number): { send(body: unknown): unknown } }) =>
      reply.code(201).send({ _id: 'x1', params: req.params, got: req.body });
    app.post('/early/:id', route);
    await app.register(auditLogFastify, { store: memoryStore() });
    app.post('/late/:id', route);
    await app.register(
      async (api) => {
        api.setNotFoundHandler(async (req, reply) => reply.code(404).send({ message: `No ${req.method} here` }));
        api.post('/things', async () => ({ ok: true }));
      },
      { prefix: '/api' },
    );
    const url = await listening(app);
    const auth = { Authorization: `Bearer ${ADMIN}` };
    await request(url).post('/early/7').set(auth).send({ name: 'a', password: 'p' }).expect(201);
    await request(url).post('/late/7').set(auth).send({ name: 'a', password: 'p' }).expect(201);
    await request(url).put('/api/nowhere/3').set(auth).send({ b: 2 }).expect(404);
    await request(url).patch('/nowhere/3').send({ b: 2 }).expect(404);
    await request(url).get('/early/7').expect(404);
    const [early, late, notFound, fastify404, ...rest] = (await entries(app)) as [AuditEntry, AuditEntry, AuditEntry, AuditEntry, ...AuditEntry[]];
    expect(rest).toEqual([]);
    expect(facts(early)).toEqual(facts(late));
    expect([early.endpoint, early.documents, early.result]).toEqual([
      '/early/7',
      ['7'],
      { _id: 'x1', params: { id: '7' }, got: { name: 'a', password: '[REDACTED]' } },
    ]);
    expect([notFound.endpoint, notFound.statusCode, notFound.responseMessage, notFound.payload, notFound.user]).toEqual([
      '/api/nowhere/3',
      404,
      'No PUT here',
      { b: 2 },
      'admin-1',
    ]);
    expect([fastify404.endpoint, fastify404.statusCode, fastify404.isError, fastify404.responseMessage, fastify404.payload]).toEqual([
      '/nowhere/3',
      404,
      true,
      'Route PATCH:/nowhere/3 not found',
      { b: 2 },
    ]);
  });

  it('keeps no result for a payload an onSend hook encoded, on a route declared before the plugin as on one declared after', async () => {
    const app = Fastify();
    app.post('/early', async () => ({ ok: true }));
    await app.register(auditLogFastify, { store: memoryStore() });
    app.post('/late', async () => ({ ok: true }));
    // A stand-in for a compression plugin: the payload leaves as gzip bytes.
    app.addHook('onSend', async (_req, reply, payload) => {
      if (typeof payload !== 'string') return payload;
      reply.header('content-encoding', 'gzip');
      return zlib.gzipSync(payload);
    });
    const url = await listening(app);
    for (const path of ['/early', '/late']) {
      const answer = await request(url).post(path).send({}).expect(200);
      expect(answer.body).toEqual({ ok: true });
    }
    expect((await entries(app)).map((entry) => [entry.endpoint, entry.statusCode, entry.result])).toEqual([
      ['/early', 200, null],
      ['/late', 200, null],
    ]);
  });

  it('records both routes Fastify makes of one prefixed `/` route (`/api` and `/api/`), with their results', async () => {
    const app = Fastify();
    await app.register(auditLogFastify, { store: memoryStore() });
    await app.register(
      async (api) => {
        api.post('/', async (req) => ({ got: req.body }));
      },
      { prefix: '/api' },
    );
    const url = await listening(app);
    await request(url).post('/api').send({ n: 1 }).expect(200);
    await request(url).post('/api/').send({ n: 2 }).expect(200);
    expect((await entries(app)).map((entry) => [entry.endpoint, entry.result])).toEqual([
      ['/api', { got: { n: 1 } }],
      ['/api/', { got: { n: 2 } }],
    ]);
  });

  it('runs a route declared before the plugin in the request’s audit context: audited calls share its request id', async () => {
    const app = Fastify();
    const calls: unknown[] = [];
    app.post<{ Params: { id: string } }>('/groups/:id/archive', async (req) => archive(req.params.id));
    await app.register(auditLogFastify, { store: memoryStore() });
    const archive = audited(async (id: string) => (calls.push(id), { archived: id }), {
      audit: app.auditLog,
      action: 'Archive',
      collectionName: 'groups',
      documents: ([id]) => [id],
    });
    const url = await listening(app);
    await request(url).post('/groups/g7/archive').set('X-Request-Id', 'archive-1').send({ why: 'old' }).expect(200);
    expect((await entries(app)).map((entry) => [entry.action, entry.documents, entry.requestId]).sort()).toEqual([
      ['Add', ['g7'], 'archive-1'],
      ['Archive', ['g7'], 'archive-1'],
    ]);
    expect(calls).toEqual(['g7']);
  });

  it('keeps the audit context through a body that arrives after the hooks ran', async () => {
    const app = Fastify();
    await app.register(auditLogFastify, { store: memoryStore() });
    const archive = audited(async (id: string) => ({ archived: id }), { audit: app.auditLog, action: 'Archive', collectionName: 'groups' });
    let headersIn!: () => void;
    const hooksRan = new Promise<void>((resolve) => {
      headersIn = resolve;
    });
    app.addHook('onRequest', async () => headersIn());
    app.post<{ Body: { id: string } }>('/archive', async (req) => archive(req.body.id));
    const url = new URL(await listening(app));
    const body = JSON.stringify({ id: 'g9' });
    const answered = new Promise<number>((resolve, reject) => {
      const client = http.request(
        {
          host: url.hostname,
          port: url.port,
          method: 'POST',
          path: '/archive',
          headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), 'X-Request-Id': 'late-body' },
        },
        (response) => {
          response.resume();
          response.on('end', () => resolve(response.statusCode ?? 0));
        },
      );
      client.on('error', reject);
      client.flushHeaders();
      // The body comes once the server has run its onRequest hooks: parsing waits for it.
      void hooksRan.then(() => client.end(body));
    });
    expect(await answered).toBe(200);
    expect((await entries(app)).map((entry) => [entry.action, entry.requestId]).sort()).toEqual([
      ['Archive', 'late-body'],
      ['Create', 'late-body'],
    ]);
  });

  it('still records a request an auth hook turns away first, whether route-level or global and added after the plugin', async () => {
    const app = Fastify();
    await app.register(auditLogFastify, { store: memoryStore() } satisfies AuditLogFastifyOptions);
    app.addHook('onRequest', async (req, reply) => {
      if (req.headers['x-block'] === 'global') return reply.code(401).send({ message: 'global says no' });
    });
    app.post(
      '/guarded',
      {
        onRequest: async (req, reply) => {
          if (req.headers['x-block'] === 'route') return reply.code(403).send({ message: 'route says no' });
        },
      },
      async () => ({ ok: true }),
    );
    const url = await listening(app);
    await request(url).post('/guarded').set('x-block', 'global').send({}).expect(401);
    await request(url).post('/guarded').set('x-block', 'route').send({}).expect(403);
    await request(url).post('/guarded').send({}).expect(200);
    expect((await entries(app)).map((entry) => [entry.statusCode, entry.responseMessage, entry.result])).toEqual([
      [401, 'global says no', null],
      [403, 'route says no', null],
      [200, null, { ok: true }],
    ]);
  });

  it('echoes the request id of record() on a request it does not record (a GET, an excluded POST), set when record() runs', async () => {
    const app = Fastify();
    await app.register(auditLogFastify, { store: memoryStore(), exclude: ['/quiet'] });
    app.post('/quiet', async (req) => {
      app.auditLog.record(req, { action: 'Hush', collectionName: 'things' });
      return { ok: true };
    });
    app.get('/early-answer', async (req, reply) => {
      app.auditLog.record(req, { action: 'Peek', collectionName: 'things' });
      return reply.header('X-Request-Id', 'set-by-app').send({ ok: true });
    });
    app.get('/login', async (req) => {
      app.auditLog.record(req, { action: 'Login', collectionName: 'sessions' });
      return { ok: true };
    });
    const url = await listening(app);
    expect((await request(url).get('/login').set('X-Request-Id', 'login-7').expect(200)).headers['x-request-id']).toBe('login-7');
    expect((await request(url).post('/quiet').set('X-Request-Id', 'quiet-3').send({}).expect(200)).headers['x-request-id']).toBe('quiet-3');
    // The app's own header wins.
    expect((await request(url).get('/early-answer').set('X-Request-Id', 'peek-1').expect(200)).headers['x-request-id']).toBe('set-by-app');
  });

  it("a request whose client left while the app still worked on it, the app then closed: recorded as aborted before the store closes (Fastify's test/issue-4959)", async () => {
    const store = memoryStore();
    const errors: string[] = [];
    const app = Fastify();
    await app.register(auditLogFastify, { store });
    app.auditLog.on('error', (error) => errors.push(error.code));
    let entered: () => void = () => undefined;
    const inOnSend = new Promise<void>((resolve) => (entered = resolve));
    app.addHook('onSend', async (_request, _reply, payload) => {
      entered();
      await new Promise((resolve) => setTimeout(resolve, 50));
      return payload;
    });
    app.put('/', async () => ({ hello: 'world' }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const outcome = await new Promise<string>((resolve) => {
      const req = http.request({ host: '127.0.0.1', port, method: 'PUT', path: '/', headers: { 'content-type': 'application/json' } });
      req.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
      req.on('response', () => resolve('answered'));
      req.end('{"test":"me"}');
      void inOnSend.then(() => req.socket?.destroy());
    });
    expect(outcome).toBe('ECONNRESET');
    await app.close();
    const { docs } = await store.find({ filter: {}, sort: [['date', 1]], skip: 0, limit: 10, select: null });
    expect(docs.map((d) => [d.method, d.endpoint, d.aborted])).toEqual([['PUT', '/', true]]);
    expect(errors).toEqual([]);
  });
});
