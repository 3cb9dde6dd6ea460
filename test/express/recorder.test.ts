/**
 * The recorder in the apps people have: routers under prefixes, routes that end with end(),
 * clients that hang up, apps that patch send, test runners without globals. Every test drives
 * a real Express app over HTTP (supertest) and reads the entry from the store.
 */
import http from 'node:http';
import { Readable } from 'node:stream';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import request from 'supertest';
import { auditLog, memoryStore, type AuditEntry, type AuditLogMiddleware, type AuditLogOptions } from 'express-audit-log';
import { settle, until } from '../support/wait';

interface Recorded {
  app: Express;
  audit: AuditLogMiddleware;
  entries(): Promise<AuditEntry[]>;
  /** The one entry recorded after `count` requests in all. */
  last(count?: number): Promise<AuditEntry>;
}

function recordedApp(options: AuditLogOptions = {}, before?: (app: Express) => void): Recorded {
  const app = express();
  before?.(app);
  app.use(express.json());
  const store = memoryStore();
  const audit = auditLog({ store, ...options });
  app.use(audit);
  const entries = async () => (await store.find({ filter: {}, sort: [['date', 1]], skip: 0, limit: 1000, select: null })).docs as AuditEntry[];
  return {
    app,
    audit,
    entries,
    async last(count = 1) {
      await settle(audit, count);
      const all = await entries();
      expect(all).toHaveLength(count);
      return all[count - 1]!;
    },
  };
}

const closers: AuditLogMiddleware[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((audit) => audit.close()));
});
function track(recorded: Recorded): Recorded {
  closers.push(recorded.audit);
  return recorded;
}

describe('describing from the route that matched', () => {
  test('DELETE /v1/users/:id is a Delete of users with the id, not an association Remove', async () => {
    const t = track(recordedApp());
    t.app.delete('/v1/users/:id', (_req, res) => {
      res.status(204).end();
    });
    await request(t.app).delete('/v1/users/42').expect(204);
    expect(await t.last()).toMatchObject({ action: 'Delete', collectionName: 'users', childCollectionName: null, documents: ['42'], params: { id: '42' } });
  });

  test('a route without params names no document of its own: POST /auth/login', async () => {
    const t = track(recordedApp());
    t.app.post('/auth/login', (_req, res) => {
      res.json({ token: 'abc' });
    });
    await request(t.app).post('/auth/login').send({ username: 'ann' }).expect(200);
    expect(await t.last()).toMatchObject({ action: 'Create', collectionName: 'auth', documents: null, params: null });
  });

  test.each([
    ['/api', '/users/:id'],
    ['/api/v1', '/users/:id'],
    ['/api/v1/users', '/:id'],
    ['/v2/users', '/:id'],
  ])('a router mounted at %s with route %s gives collection users, the audit line at the root', async (mount, route) => {
    const t = track(recordedApp());
    const router = express.Router();
    router.put(route, (req, res) => {
      res.json({ _id: req.params.id });
    });
    t.app.use(mount, router);
    await request(t.app)
      .put(`${mount}${route.replace(':id', '7')}`)
      .send({ name: 'x' })
      .expect(200);
    expect(await t.last()).toMatchObject({
      action: 'Update',
      collectionName: 'users',
      documents: ['7'],
      params: { id: '7' },
      endpoint: `${mount}${route.replace(':id', '7')}`,
    });
  });

  test('a router mounted at a name: that name is the collection, its routes are what is done to it (POST /v1/auth/login)', async () => {
    const t = track(recordedApp());
    const auth = express.Router();
    auth.post('/login', (_req, res) => {
      res.json({ token: 'abc' });
    });
    auth.post('/reset-password/:token', (_req, res) => {
      res.status(204).end();
    });
    const v1 = express.Router();
    v1.use('/auth', auth);
    t.app.use('/v1', v1);
    await request(t.app).post('/v1/auth/login').send({}).expect(200);
    await request(t.app).post('/v1/auth/reset-password/s3cr3tvalue').expect(204);
    await settle(t.audit, 2);
    const [login, reset] = await t.entries();
    expect(login).toMatchObject({ action: 'Create', collectionName: 'auth', documents: null });
    expect(reset).toMatchObject({ collectionName: 'auth', documents: ['[REDACTED]'], endpoint: '/v1/auth/reset-password/[REDACTED]' });
  });

  test('nested routers: the innermost one decides, wherever the audit middleware is mounted', async () => {
    const t = track(recordedApp());
    const users = express.Router();
    users.delete('/:userId', (_req, res) => {
      res.sendStatus(204);
    });
    const v1 = express.Router();
    v1.use('/users', users);
    t.app.use('/api/v1', v1);
    await request(t.app).delete('/api/v1/users/u9').expect(204);
    expect(await t.last()).toMatchObject({ action: 'Delete', collectionName: 'users', documents: ['u9'], params: { userId: 'u9' } });
  });

  test('associations are recognised from the pattern, under a mergeParams router too', async () => {
    const t = track(recordedApp({ associations: { 'orgs.members': 'MANY_MANY' } }));
    t.app.put('/api/users/:userId/groups/:groupId', (_req, res) => {
      res.status(204).end();
    });
    const members = express.Router({ mergeParams: true });
    members.delete('/:memberId', (_req, res) => {
      res.status(204).end();
    });
    t.app.use('/orgs/:orgId/members', members);
    await request(t.app).put('/api/users/u1/groups/g1').expect(204);
    await request(t.app).delete('/orgs/o1/members/m1').expect(204);
    const [add, remove] = await t.entries().then(async (all) => (all.length === 2 ? all : (await settle(t.audit, 2), t.entries())));
    expect(add).toMatchObject({ action: 'Add', collectionName: 'users', childCollectionName: 'groups', documents: ['u1', 'g1'] });
    expect(remove).toMatchObject({
      action: 'Remove',
      collectionName: 'orgs',
      childCollectionName: 'members',
      associationType: 'MANY_MANY',
      documents: ['o1', 'm1'],
    });
  });

  test('a route that hands its error to next(err) is still described by that route', async () => {
    const t = track(recordedApp());
    const router = express.Router();
    router.patch('/users/:id', (_req, _res, next) => {
      next(Object.assign(new Error('nope'), { status: 409 }));
    });
    t.app.use('/api', router);
    t.app.use((error: Error & { status: number }, _req: Request, res: Response, _next: NextFunction) => {
      res.status(error.status).json({ message: error.message });
    });
    await request(t.app).patch('/api/users/5').send({ a: 1 }).expect(409);
    expect(await t.last()).toMatchObject({
      collectionName: 'users',
      documents: ['5'],
      params: { id: '5' },
      statusCode: 409,
      isError: true,
      responseMessage: 'nope',
    });
  });

  test('a request no route handled is described from its path, below the audit middleware', async () => {
    const t = track(recordedApp());
    await request(t.app).post('/widgets/123').expect(404);
    expect(await t.last()).toMatchObject({ collectionName: 'widgets', documents: ['123'], statusCode: 404 });
  });
});

describe('every way of ending a response gives the same entry', () => {
  const endings: Array<[string, (res: Response) => void]> = [
    ['res.status(204).end()', (res) => res.status(204).end()],
    ['res.sendStatus(204)', (res) => res.sendStatus(204)],
    ['res.redirect()', (res) => res.redirect(303, '/elsewhere')],
    [
      'a piped stream',
      (res) => {
        res.status(200).type('text/plain');
        Readable.from(['a', 'b']).pipe(res);
      },
    ],
    ['res.json()', (res) => res.status(200).json({ ok: true })],
  ];
  test.each(endings)('%s: params, collection and documents are kept', async (_name, end) => {
    const t = track(recordedApp());
    t.app.delete('/roles/:ownerId/users/:childId', (_req, res) => end(res));
    await request(t.app).delete('/roles/r1/users/u1');
    expect(await t.last()).toMatchObject({
      action: 'Remove',
      collectionName: 'roles',
      childCollectionName: 'users',
      documents: ['r1', 'u1'],
      params: { ownerId: 'r1', childId: 'u1' },
    });
  });
});

describe('method and URL are read once, when the recorder sees the request', () => {
  test('a rewrite after the audit middleware changes neither the method nor the endpoint recorded', async () => {
    const t = track(recordedApp());
    t.app.use((req, _res, next) => {
      req.method = 'PUT';
      req.url = '/rewritten';
      next();
    });
    t.app.put('/rewritten', (_req, res) => {
      res.json({ ok: true });
    });
    await request(t.app).post('/original?x=1').send({}).expect(200);
    expect(await t.last()).toMatchObject({ method: 'POST', action: 'Create', endpoint: '/original' });
  });

  test('method-override before the audit middleware: the overridden method is recorded and filtered', async () => {
    const t = track(
      recordedApp({ methods: ['DELETE'] }, (app) => {
        app.use((req, _res, next) => {
          if (req.headers['x-http-method-override']) req.method = String(req.headers['x-http-method-override']);
          next();
        });
      }),
    );
    t.app.delete('/items/:id', (_req, res) => {
      res.status(204).end();
    });
    await request(t.app).post('/items/1').set('X-HTTP-Method-Override', 'DELETE').expect(204);
    expect(await t.last()).toMatchObject({ method: 'DELETE', action: 'Delete', documents: ['1'] });
  });
});

describe('a client that hangs up', () => {
  async function abandon(app: Express, path: string, started: Promise<void>): Promise<void> {
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const { port } = server.address() as { port: number };
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path, headers: { 'content-type': 'application/json' } });
    req.on('error', () => undefined);
    req.end('{"a":1}');
    await started;
    req.destroy();
    await new Promise((resolve) => server.close(resolve));
  }

  test('before the handler answered: recorded as aborted, an error, with no status', async () => {
    const t = track(recordedApp());
    let handlerStarted!: () => void;
    const started = new Promise<void>((resolve) => (handlerStarted = resolve));
    t.app.post('/jobs/:id', (_req, res) => {
      handlerStarted();
      res.on('close', () => undefined); // never answers
    });
    await abandon(t.app, '/jobs/9', started);
    await until(() => t.audit.stats().recorded === 1, 'the aborted request recorded');
    expect(await t.last()).toMatchObject({ aborted: true, isError: true, statusCode: null, documents: ['9'], payload: { a: 1 } });
  });

  test('after the app set a status and began streaming: that status, aborted', async () => {
    const t = track(recordedApp());
    let handlerStarted!: () => void;
    const started = new Promise<void>((resolve) => (handlerStarted = resolve));
    t.app.post('/exports', (_req, res) => {
      res.status(202).type('text/plain');
      res.write('first part');
      handlerStarted();
    });
    await abandon(t.app, '/exports', started);
    await until(() => t.audit.stats().recorded === 1, 'the aborted request recorded');
    expect(await t.last()).toMatchObject({ aborted: true, isError: true, statusCode: 202 });
  });

  test('a completed request carries no aborted flag', async () => {
    const t = track(recordedApp());
    t.app.post('/ok', (_req, res) => {
      res.status(201).json({ _id: 'a' });
    });
    await request(t.app).post('/ok').expect(201);
    const entry = await t.last();
    expect(entry.aborted).toBeUndefined();
    expect(entry).toMatchObject({ statusCode: 201, isError: false });
  });
});

describe('transparency', () => {
  test("the send patch keeps the property descriptor of Express's response", async () => {
    const before = { ...Object.getOwnPropertyDescriptor(express.response, 'send'), value: undefined };
    const t = track(recordedApp());
    t.app.post('/x', (_req, res) => {
      res.send('ok');
    });
    await request(t.app).post('/x').expect(200, 'ok');
    const after = { ...Object.getOwnPropertyDescriptor(express.response, 'send'), value: undefined };
    expect(after).toEqual(before);
    expect(Object.keys(express.response)).toContain('send');
  });

  test("every argument reaches an app's own send", async () => {
    const t = track(recordedApp());
    const app = t.app as Express & { response: Response };
    const plainSend = express.response.send;
    Object.defineProperty(app.response, 'send', {
      configurable: true,
      writable: true,
      enumerable: true,
      value: function send(this: Response, body: unknown, flag?: string) {
        this.setHeader('x-flag', String(flag));
        return plainSend.call(this, body);
      },
    });
    app.post('/flag', (_req, res) => {
      (res.send as (body: unknown, flag: string) => Response)('ok', 'kept');
    });
    const res = await request(app).post('/flag').expect(200, 'ok');
    expect(res.headers['x-flag']).toBe('kept');
    expect(await t.last()).toMatchObject({ result: 'ok' });
  });

  test('res.send(status, body), which Express 4 still takes: the same answer as without the audit log, and the body recorded', async () => {
    const handler = (_req: Request, res: Response) => {
      (res.send as unknown as (status: number, body: string) => Response)(201, 'Created :)');
    };
    const bare = express();
    bare.post('/legacy', handler);
    const expected = await request(bare).post('/legacy');
    const t = track(recordedApp());
    t.app.post('/legacy', handler);
    const answered = await request(t.app).post('/legacy');
    expect({ status: answered.status, text: answered.text }).toEqual({ status: expected.status, text: expected.text });
    // Express 5 dropped the signature and sends the number as JSON; Express 4 sends the text with status 201.
    const body = expected.type === 'application/json' ? JSON.parse(expected.text) : expected.text;
    expect(await t.last()).toMatchObject({ statusCode: expected.status, result: body });
  });

  test('responses are left as the app made them: no X-Request-Id unless echoRequestId is set', async () => {
    const plain = track(recordedApp());
    plain.app.post('/a', (_req, res) => {
      res.json({});
    });
    expect((await request(plain.app).post('/a').expect(200)).headers['x-request-id']).toBeUndefined();
    const echoing = track(recordedApp({ echoRequestId: true }));
    echoing.app.post('/a', (_req, res) => {
      res.json({});
    });
    const res = await request(echoing.app).post('/a').set('X-Request-Id', 'ticket-1').expect(200);
    expect(res.headers['x-request-id']).toBe('ticket-1');
    expect(await echoing.last()).toMatchObject({ requestId: 'ticket-1' });
  });

  test('req.route still reads as Express set it, for the app and other middleware', async () => {
    const t = track(recordedApp());
    let seen: unknown;
    t.app.post('/things/:id', (req, res) => {
      seen = req.route?.path;
      res.json({});
    });
    await request(t.app).post('/things/1').expect(200);
    expect(seen).toBe('/things/:id');
  });

  test('a request object without headers (a router unit test) passes through without throwing', () => {
    const audit = auditLog({ store: memoryStore() });
    closers.push(audit);
    const next = jest.fn();
    expect(() => audit({ method: 'POST', url: '/x' } as Request, {} as Response, next)).not.toThrow();
    expect(next).toHaveBeenCalledTimes(1);
    expect(next).toHaveBeenCalledWith();
  });
});

describe('the recorder never changes the answer', () => {
  test('without a global performance (some test runners), requests answer and are recorded', async () => {
    const t = track(recordedApp());
    t.app.post('/p', (_req, res) => {
      res.status(201).json({ _id: 'p1' });
    });
    const saved = Object.getOwnPropertyDescriptor(globalThis, 'performance')!;
    delete (globalThis as { performance?: unknown }).performance;
    try {
      await request(t.app).post('/p').expect(201);
      await until(() => t.audit.stats().recorded === 1, 'the entry recorded');
    } finally {
      Object.defineProperty(globalThis, 'performance', saved);
    }
    expect(await t.last()).toMatchObject({ statusCode: 201, documents: ['p1'] });
  });

  test('a failure inside the recorder is reported as EAUDIT_CAPTURE and the request goes on', async () => {
    const t = track(
      recordedApp({ include: ['/q'] }, (app) => {
        app.use((req, _res, next) => {
          // The recorder reads the app's routing settings for include; the route never does.
          Object.defineProperty(req, 'app', {
            get() {
              throw new Error('hostile request object');
            },
          });
          next();
        });
      }),
    );
    const errors: Array<{ code: string }> = [];
    t.audit.on('error', (error) => errors.push(error));
    t.app.post('/q', (_req, res) => {
      res.status(201).json({ ok: true });
    });
    await request(t.app).post('/q').expect(201, { ok: true });
    expect(errors.map((error) => error.code)).toEqual(['EAUDIT_CAPTURE']);
    expect(t.audit.stats().recorded).toBe(0);
  });
});

describe("include / exclude follow the app's routing settings", () => {
  test("case-insensitive by default: include ['/role'] covers POST /ROLE", async () => {
    const t = track(recordedApp({ include: ['/role'] }));
    t.app.post('/role', (_req, res) => {
      res.status(201).json({});
    });
    await request(t.app).post('/ROLE').expect(201);
    await request(t.app).post('/other').expect(404);
    expect(await t.last()).toMatchObject({ endpoint: '/ROLE' });
  });

  test('with case sensitive routing, /ROLE is another path, for the router and for include alike', async () => {
    const t = track(recordedApp({ include: ['/role'] }, (app) => app.set('case sensitive routing', true)));
    t.app.post('/role', (_req, res) => {
      res.status(201).json({});
    });
    await request(t.app).post('/ROLE').expect(404);
    await request(t.app).post('/role').expect(201);
    expect(await t.last()).toMatchObject({ endpoint: '/role' });
  });

  test("exclude ['/health/'] also skips /HEALTH without strict routing", async () => {
    const t = track(recordedApp({ exclude: ['/health/'] }));
    t.app.post('/health', (_req, res) => {
      res.json({});
    });
    t.app.post('/kept', (_req, res) => {
      res.json({});
    });
    await request(t.app).post('/HEALTH').expect(200);
    await request(t.app).post('/kept').expect(200);
    expect(await t.last()).toMatchObject({ endpoint: '/kept' });
  });
});

describe('secret params inside a segment', () => {
  test.each([
    ['/reset/:userId-:resetToken', '/reset/42-s3cr3tvalue', '/reset/42-[REDACTED]', ['42']],
    ['/confirm/:token.:format', '/confirm/s3cr3tvalue.json', '/confirm/[REDACTED].json', ['[REDACTED]']],
  ])('%s: the secret is redacted in endpoint, params and documents', async (route, path, endpoint, documents) => {
    const t = track(recordedApp());
    t.app.post(route, (_req, res) => {
      res.json({ ok: true });
    });
    await request(t.app).post(path).expect(200);
    const entry = await t.last();
    expect(entry).toMatchObject({ endpoint, documents });
    expect(JSON.stringify(entry)).not.toContain('s3cr3tvalue');
  });
});
