/**
 * The Hapi adapter records requests as the Express one does: described from Hapi's matched route,
 * the user from @hapi/jwt's credentials, the answer from the handler's value or a Boom error.
 */
import Boom from '@hapi/boom';
import Hapi from '@hapi/hapi';
import Jwt from '@hapi/jwt';
import { auditLogHapi } from 'express-audit-log/hapi';
import request from 'supertest';
import type { AuditEntry } from 'express-audit-log';
import { memoryStore } from 'express-audit-log';
import { hapiDriver, startHapiApp } from '../contract/hapi-driver';
import type { ContractApp } from '../contract/driver';
import { ADMIN, SECRET, USER, token } from '../support/app';

async function entries(app: ContractApp): Promise<AuditEntry[]> {
  await app.audit.flush();
  const { docs } = await app.audit.store!.find({ filter: {}, sort: [['date', 1]], skip: 0, limit: 1000, select: null });
  return docs as AuditEntry[];
}

describe('the Hapi adapter records', () => {
  let app: ContractApp;
  beforeEach(async () => {
    app = await hapiDriver.start({ store: memoryStore(), scope: ['admin'] });
  });
  afterEach(() => app.close());

  it('a create: user, collection, documents, redacted payload, result, request id', async () => {
    const created = await request(app.url)
      .post('/api/v1/users')
      .set('Authorization', `Bearer ${USER}`)
      .set('X-Request-Id', 'req-1')
      .send({ name: 'Ada', password: 's3cret' })
      .expect(201);
    const [entry] = await entries(app);
    expect(entry).toMatchObject({
      method: 'POST',
      action: 'Create',
      endpoint: '/api/v1/users',
      user: 'user-1',
      collectionName: 'users',
      childCollectionName: null,
      documents: [created.body._id],
      payload: { name: 'Ada', password: '[REDACTED]' },
      result: { _id: created.body._id, name: 'Ada', password: '[REDACTED]' },
      statusCode: 201,
      isError: false,
      responseMessage: null,
      ipAddress: '127.0.0.1',
      requestId: 'req-1',
    });
  });

  it('an update of a missing document as an error, with its message and params', async () => {
    await request(app.url).put('/api/v1/users/0123456789abcdef01234567').send({ name: 'x' }).expect(404);
    const [entry] = await entries(app);
    expect(entry).toMatchObject({
      action: 'Update',
      user: null,
      collectionName: 'users',
      documents: ['0123456789abcdef01234567'],
      params: { id: '0123456789abcdef01234567' },
      result: null,
      statusCode: 404,
      isError: true,
      responseMessage: 'No resource was found with that id.',
    });
  });

  it('associations: Add and Remove, owner and child', async () => {
    await request(app.url).post('/api/v1/users/u1/roles').send({ name: 'r' }).expect(201);
    await request(app.url).delete('/api/v1/users/u1/roles/r1').expect(204);
    const [add, remove] = await entries(app);
    expect(add).toMatchObject({ action: 'Add', collectionName: 'users', childCollectionName: 'roles', statusCode: 201 });
    expect(add!.documents![0]).toBe('u1');
    expect(remove).toMatchObject({
      action: 'Remove',
      collectionName: 'users',
      childCollectionName: 'roles',
      documents: ['u1', 'r1'],
      result: null,
      statusCode: 204,
    });
  });

  it('a login route with no params names no document, and its token is redacted', async () => {
    await request(app.url).post('/auth/login').send({}).expect(200);
    const [entry] = await entries(app);
    expect(entry).toMatchObject({ action: 'Create', collectionName: 'auth', documents: null, result: { token: '[REDACTED]' }, statusCode: 200 });
  });

  it('a request no route matched: described from its path, by position', async () => {
    const res = await request(app.url).delete('/widgets/5').expect(404);
    expect(res.body).toMatchObject({ statusCode: 404, error: 'Not Found' });
    const [entry] = await entries(app);
    expect(entry).toMatchObject({
      action: 'Delete',
      collectionName: 'widgets',
      documents: ['5'],
      params: null,
      statusCode: 404,
      isError: true,
      responseMessage: 'Not Found',
    });
  });

  it('GETs are not recorded, nor the audit routes', async () => {
    await request(app.url).get('/api/v1/users/nope').expect(404);
    await request(app.url).post('/auditLog').set('Authorization', `Bearer ${ADMIN}`).send({ action: 'Note', collectionName: 'x' }).expect(201);
    const recorded = await entries(app);
    expect(recorded.map((e) => e.method)).toEqual([null]); // the manual entry only
    expect(recorded[0]).toMatchObject({ collectionName: 'x', user: 'admin-1' });
  });
});

describe('Hapi particulars', () => {
  it('a Boom error thrown by a handler: its status and message', async () => {
    const server = await startHapiApp({ store: memoryStore() }, (s) => {
      s.route({
        method: 'PATCH',
        path: '/api/v1/users/{id}',
        handler: () => {
          throw Boom.badRequest('user error');
        },
      });
    });
    try {
      const res = await request(server.info.uri).patch('/api/v1/users/7').send({ email: 'error@user.com' }).expect(400);
      expect(res.body).toEqual({ statusCode: 400, error: 'Bad Request', message: 'user error' });
      const audit = server.plugins['express-audit-log'];
      await audit.flush();
      const { docs } = await audit.store!.find({ filter: {}, sort: [['date', 1]], skip: 0, limit: 10, select: null });
      expect(docs[0]).toMatchObject({ action: 'Update', documents: ['7'], statusCode: 400, isError: true, responseMessage: 'user error', result: null });
    } finally {
      await server.stop();
    }
  });

  it("the answer the client got: an onPreResponse of the app's, after the plugin's, that rewrites an error is what is recorded", async () => {
    const server = await startHapiApp({ store: memoryStore() }, (s) => {
      s.route({
        method: 'POST',
        path: '/things/{id}',
        handler: () => {
          throw Boom.notFound('raw');
        },
      });
    });
    // Registered after the plugin (startHapiApp registers it first): runs after the recorder's own onPreResponse.
    server.ext('onPreResponse', (request, h) => {
      const response = request.response;
      if ('isBoom' in response && response.isBoom) return h.response({ message: `formatted: ${response.message}` }).code(response.output.statusCode);
      return h.continue;
    });
    try {
      const res = await request(server.info.uri).post('/things/7').send({}).expect(404);
      expect(res.body).toEqual({ message: 'formatted: raw' });
      const audit = server.plugins['express-audit-log'];
      await audit.flush();
      const { docs } = await audit.store!.find({ filter: {}, sort: [['date', 1]], skip: 0, limit: 10, select: null });
      expect(docs[0]).toMatchObject({ statusCode: 404, isError: true, responseMessage: 'formatted: raw' });
    } finally {
      await server.stop();
    }
  });

  it("a route that takes its payload as a stream (an upload): no payload recorded, not the stream's internals; raw bytes as on Express", async () => {
    const server = await startHapiApp({ store: memoryStore() }, (s) => {
      s.route({ method: 'POST', path: '/uploads', options: { payload: { output: 'stream', parse: false } }, handler: () => ({ ok: true }) });
      s.route({ method: 'POST', path: '/raw', options: { payload: { output: 'data', parse: false } }, handler: () => ({ ok: true }) });
    });
    try {
      const headers = { 'content-type': 'application/octet-stream', authorization: 'Bearer not-a-jwt' };
      expect((await server.inject({ method: 'POST', url: '/uploads', headers, payload: 'file bytes' })).statusCode).toBe(200);
      expect((await server.inject({ method: 'POST', url: '/raw', headers, payload: 'raw bytes' })).statusCode).toBe(200);
      const audit = server.plugins['express-audit-log'];
      await audit.flush();
      const { docs } = await audit.store!.find({ filter: {}, sort: [['date', 1]], skip: 0, limit: 10, select: null });
      expect(docs.map((doc) => [doc.endpoint, doc.payload])).toEqual([
        ['/uploads', null],
        ['/raw', '[Binary: 9 bytes]'],
      ]);
    } finally {
      await server.stop();
    }
  });

  it('a route with auth mode required: the rejected request is recorded as a 401, the audit routes still answer their own 401/403', async () => {
    const server = await startHapiApp({ store: memoryStore(), scope: ['admin'] }, (s) => {
      s.route({ method: 'POST', path: '/secure/things', options: { auth: { strategy: 'jwt', mode: 'required' } }, handler: () => ({ ok: true }) });
    });
    try {
      await request(server.info.uri).post('/secure/things').send({}).expect(401);
      await request(server.info.uri).post('/secure/things').set('Authorization', `Bearer ${USER}`).send({}).expect(200);
      await request(server.info.uri).get('/auditLog').expect(401);
      await request(server.info.uri).get('/auditLog').set('Authorization', `Bearer ${USER}`).expect(403);
      const list = await request(server.info.uri).get('/auditLog').set('Authorization', `Bearer ${ADMIN}`).expect(200);
      expect(list.body.docs.map((e: AuditEntry) => [e.statusCode, e.user])).toEqual([
        [200, 'user-1'],
        [401, null],
      ]);
    } finally {
      await server.stop();
    }
  });

  it("a server whose default auth is 'required' with a scope: the audit routes still answer 401/403 themselves, publicRoutes opens them", async () => {
    const server = Hapi.server({ host: '127.0.0.1', port: 0 });
    await server.register(Jwt);
    server.auth.strategy('bearer', 'jwt', { keys: { key: SECRET, algorithms: ['HS256'] }, verify: { aud: false, iss: false, sub: false }, validate: false });
    server.auth.default({ strategy: 'bearer', mode: 'required', access: { scope: ['staff'] } });
    await server.register({ plugin: auditLogHapi, options: { store: memoryStore(), publicRoutes: true, scope: ['admin'] } });
    await server.start();
    try {
      // Reads are public; the scope Hapi would demand by default does not apply to them.
      await request(server.info.uri).get('/auditLog').expect(200);
      // Writes need auth and `scope`, checked by the plugin: its own 401 and 403.
      const anonymous = await request(server.info.uri).post('/auditLog').send({ action: 'Note' }).expect(401);
      expect(anonymous.body.message).toMatch(/request.auth.credentials is not set/);
      await request(server.info.uri).post('/auditLog').set('Authorization', `Bearer ${USER}`).send({ action: 'Note' }).expect(403);
      await request(server.info.uri).post('/auditLog').set('Authorization', `Bearer ${ADMIN}`).send({ action: 'Note' }).expect(201);
    } finally {
      await server.stop();
    }
  });

  it('the strategies option names which strategies authenticate the audit routes', async () => {
    const server = Hapi.server({ host: '127.0.0.1', port: 0 });
    await server.register(Jwt);
    server.auth.strategy('other', 'jwt', { keys: { key: SECRET, algorithms: ['HS256'] }, verify: { aud: false, iss: false, sub: false }, validate: false });
    await server.register({ plugin: auditLogHapi, options: { store: memoryStore(), scope: ['admin'], strategies: ['other'] } });
    await server.start();
    try {
      await request(server.info.uri).get('/auditLog').expect(401);
      await request(server.info.uri).get('/auditLog').set('Authorization', `Bearer ${ADMIN}`).expect(200);
    } finally {
      await server.stop();
    }
  });

  it("Hapi's scope semantics: +required and !forbidden scopes", async () => {
    const server = await startHapiApp({ store: memoryStore(), scope: ['admin', 'auditor', '!banned'] });
    try {
      const get = (scope: string) =>
        request(server.info.uri)
          .get('/auditLog')
          .set('Authorization', `Bearer ${token({ sub: 'u', scope })}`);
      await get('auditor').expect(200);
      await get('auditor banned').expect(403);
      await get('user').expect(403);
    } finally {
      await server.stop();
    }
  });

  it('realm prefixes: routes of a plugin registered with a prefix are described below it, and the audit plugin serves under its own prefix', async () => {
    const server = Hapi.server({ host: '127.0.0.1', port: 0 });
    try {
      await server.register(
        {
          plugin: {
            name: 'books',
            register: (s: Hapi.Server) => {
              s.route({ method: 'DELETE', path: '/{id}', handler: (_r, h) => h.response().code(204) });
            },
          },
        },
        { routes: { prefix: '/v2/books' } },
      );
      await server.register({ plugin: auditLogHapi, options: { store: memoryStore(), publicRoutes: true } }, { routes: { prefix: '/admin' } });
      await server.start();
      await request(server.info.uri).delete('/v2/books/42').expect(204);
      const audit = server.plugins['express-audit-log'];
      await audit.flush();
      const { docs } = await audit.store!.find({ filter: {}, sort: [['date', 1]], skip: 0, limit: 10, select: null });
      expect(docs[0]).toMatchObject({ action: 'Delete', endpoint: '/v2/books/42', collectionName: 'books', documents: ['42'], params: { id: '42' } });
      const list = await request(server.info.uri).get('/admin/auditLog').expect(200);
      expect(list.body.items.total).toBe(1);
      await request(server.info.uri).get('/auditLog').expect(404);
      const page = await request(server.info.uri).get('/admin/auditLog/ui').expect(200);
      expect(page.text).toContain('/admin/auditLog');
    } finally {
      await server.stop();
    }
  });

  it('the status that went out: a null answer is a 204, a result Hapi cannot serialize a 500 (not an abort)', async () => {
    const server = await startHapiApp({ store: memoryStore() }, (s) => {
      s.route({ method: 'POST', path: '/items', handler: () => null });
      s.route({
        method: 'PUT',
        path: '/items/{id}',
        handler: () => {
          const cyclic: Record<string, unknown> = { id: 1 };
          cyclic.self = cyclic;
          return cyclic;
        },
      });
    });
    const audit = server.plugins['express-audit-log'];
    const errors: string[] = [];
    audit.on('error', (error) => errors.push(error.code));
    try {
      await request(server.info.uri).post('/items').send({ a: 1 }).expect(204);
      await request(server.info.uri).put('/items/1').send({ a: 1 }).expect(500);
      await audit.flush();
      const { docs } = await audit.store!.find({ filter: {}, sort: [['date', 1]], skip: 0, limit: 10, select: null });
      expect(docs.map((d) => [d.method, d.statusCode, d.isError, d.aborted ?? false])).toEqual([
        ['POST', 204, false, false],
        ['PUT', 500, true, false],
      ]);
      expect(errors).toEqual([]);
    } finally {
      await server.stop();
    }
  });

  it('a request still in its handler when the server stops is recorded, as cut off, before the store closes', async () => {
    const store = memoryStore();
    let release: () => void = () => undefined;
    let entered: () => void = () => undefined;
    const inHandler = new Promise<void>((resolve) => (entered = resolve));
    const server = await startHapiApp({ store }, (s) => {
      s.route({
        method: 'POST',
        path: '/orders',
        handler: async () => {
          entered();
          await new Promise<void>((resolve) => (release = resolve));
          return { ok: true };
        },
      });
    });
    const errors: string[] = [];
    server.plugins['express-audit-log'].on('error', (error) => errors.push(error.code));
    const sent = request(server.info.uri)
      .post('/orders')
      .send({ item: 1 })
      .then(
        () => 'answered',
        () => 'cut off',
      );
    await inHandler;
    await server.stop({ timeout: 50 });
    release();
    expect(await sent).toBe('cut off');
    const { docs } = await store.find({ filter: {}, sort: [['date', 1]], skip: 0, limit: 10, select: null });
    expect(docs).toHaveLength(1);
    expect(docs[0]).toMatchObject({ method: 'POST', endpoint: '/orders', aborted: true, statusCode: null, payload: { item: 1 } });
    expect(errors).toEqual([]);
  });
});
