/**
 * What a Hapi app holds: the handle on server.plugins['express-audit-log'] (record, annotate,
 * flush, stats, events), closed with the server; getAuth; aborted requests; disabled instances.
 */
import http from 'http';
import Hapi from '@hapi/hapi';
import request from 'supertest';
import { audited, memoryStore, type AuditEntry } from 'express-audit-log';
import { auditLogHapi, type AuditLogHapiHandle } from 'express-audit-log/hapi';
import { startHapiApp } from '../contract/hapi-driver';
import { token, USER } from '../support/app';

async function stored(audit: AuditLogHapiHandle): Promise<AuditEntry[]> {
  await audit.flush();
  const { docs } = await audit.store!.find({ filter: {}, sort: [['date', 1]], skip: 0, limit: 100, select: null });
  return docs as AuditEntry[];
}

describe('the Hapi handle', () => {
  it('record(request, …) and annotate(request, …) inside a handler: same request id, the annotation wins', async () => {
    const server = await startHapiApp({ store: memoryStore() }, (s) => {
      s.route({
        method: 'POST',
        path: '/orders/{id}/approve',
        handler: (req) => {
          const audit = s.plugins['express-audit-log'];
          audit.annotate(req, { action: 'Approve', notes: 'manager approval', documents: [req.params.id as string] });
          audit.record(req, { action: 'Notify', collectionName: 'mail' });
          return { ok: true };
        },
      });
    });
    try {
      await request(server.info.uri).post('/orders/o1/approve').set('Authorization', `Bearer ${USER}`).set('X-Request-Id', 'r-42').send({}).expect(200);
      const entries = await stored(server.plugins['express-audit-log']);
      expect(entries.map((e) => [e.action, e.user, e.requestId])).toEqual(
        expect.arrayContaining([
          ['Notify', 'user-1', 'r-42'],
          ['Approve', 'user-1', 'r-42'],
        ]),
      );
      expect(entries.find((e) => e.action === 'Approve')).toMatchObject({ notes: 'manager approval', documents: ['o1'] });
    } finally {
      await server.stop();
    }
  });

  it('audited functions called in a handler record into the request: its user and request id', async () => {
    const publish = audited(async (id: string) => ({ id, published: true }), { action: 'Publish', collectionName: 'books', documents: ([id]) => [id] });
    const server = await startHapiApp({ store: memoryStore() }, (s) => {
      s.route({
        method: 'POST',
        path: '/books/{id}/publish',
        handler: async (req) => {
          await new Promise((resolve) => setImmediate(resolve));
          return publish(req.params.id as string);
        },
      });
    });
    try {
      await request(server.info.uri).post('/books/b7/publish').set('Authorization', `Bearer ${USER}`).set('X-Request-Id', 'r-7').send({}).expect(200);
      const entries = await stored(server.plugins['express-audit-log']);
      expect(entries.find((e) => e.action === 'Publish')).toMatchObject({ user: 'user-1', requestId: 'r-7', collectionName: 'books', documents: ['b7'] });
      expect(entries).toHaveLength(2);
    } finally {
      await server.stop();
    }
  });

  it("a request's context does not leak into the next request on the same keep-alive connection", async () => {
    const touch = audited(async () => 'ok', { action: 'Touch', collectionName: 'things' });
    const server = await startHapiApp({ store: memoryStore() }, (s) => {
      s.route({ method: ['POST', 'GET'], path: '/things', handler: () => touch() });
    });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const send = (method: string, id: string) =>
        new Promise<number | undefined>((resolve, reject) => {
          const req = http.request(`${server.info.uri}/things`, { method, agent, headers: { 'x-request-id': id } }, (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode));
          });
          req.on('error', reject);
          req.end();
        });
      expect(await send('POST', 'post-1')).toBe(200);
      expect(await send('GET', 'get-1')).toBe(200);
      const entries = await stored(server.plugins['express-audit-log']);
      // The POST and its audited call; the GET's call ran with no context, so unaudited.
      expect(entries.map((e) => [e.action, e.requestId]).sort()).toEqual([
        ['Create', 'post-1'],
        ['Touch', 'post-1'],
      ]);
    } finally {
      agent.destroy();
      await server.stop();
    }
  });

  it('record(request, …) on a GET: the event carries the incoming request id, echoed back as X-Request-Id', async () => {
    const server = await startHapiApp({ store: memoryStore() }, (s) => {
      s.route({
        method: 'GET',
        path: '/reports/{id}',
        handler: (req) => {
          s.plugins['express-audit-log'].record(req, { action: 'View', collectionName: 'reports', documents: [req.params.id as string] });
          return { ok: true };
        },
      });
    });
    try {
      const res = await request(server.info.uri).get('/reports/r1').set('Authorization', `Bearer ${USER}`).set('X-Request-Id', 'view-1').expect(200);
      expect(res.headers['x-request-id']).toBe('view-1');
      const fresh = await request(server.info.uri).get('/reports/r2').expect(200);
      const entries = await stored(server.plugins['express-audit-log']);
      expect(entries.map((e) => [e.action, e.user, e.requestId, e.documents])).toEqual([
        ['View', 'user-1', 'view-1', ['r1']],
        ['View', null, fresh.headers['x-request-id'], ['r2']],
      ]);
      // Nothing recorded on a GET that records no event: no header added.
      expect((await request(server.info.uri).get('/api/v1/users/nope').expect(404)).headers['x-request-id']).toBeUndefined();
    } finally {
      await server.stop();
    }
  });

  it('getTenant(request): entries carry the tenant, and a caller reads only its tenant', async () => {
    const server = await startHapiApp({
      store: memoryStore(),
      getTenant: (req: Hapi.Request) => (req.auth.credentials as { org?: string } | null)?.org ?? null,
    });
    try {
      const acme = token({ sub: 'a', scope: 'user', org: 'acme' });
      const globex = token({ sub: 'g', scope: 'user', org: 'globex' });
      await request(server.info.uri).post('/api/v1/users').set('Authorization', `Bearer ${acme}`).send({ name: 'x' }).expect(201);
      await request(server.info.uri).post('/api/v1/users').set('Authorization', `Bearer ${globex}`).send({ name: 'y' }).expect(201);
      const list = await request(server.info.uri).get('/auditLog').set('Authorization', `Bearer ${acme}`).expect(200);
      expect(list.body.docs.map((e: AuditEntry) => [e.user, e.tenant])).toEqual([['a', 'acme']]);
    } finally {
      await server.stop();
    }
  });

  it('getAuth(request) replaces the credentials, for entries and the routes alike', async () => {
    const server = await startHapiApp({
      store: memoryStore(),
      scope: ['auditor'],
      getAuth: (req: Hapi.Request) => (req.headers['x-user'] ? { user: req.headers['x-user'], scopes: req.headers['x-scopes'] } : null),
    });
    try {
      await request(server.info.uri).post('/api/v1/users').set('X-User', 'carol').send({ name: 'x' }).expect(201);
      await request(server.info.uri).get('/auditLog').set('Authorization', `Bearer ${USER}`).expect(401);
      const list = await request(server.info.uri).get('/auditLog').set('X-User', 'dan').set('X-Scopes', 'auditor').expect(200);
      expect(list.body.docs[0]).toMatchObject({ user: 'carol', collectionName: 'users' });
    } finally {
      await server.stop();
    }
  });

  it('closes the store when the server stops, and reports store failures through its error event', async () => {
    const server = await startHapiApp({ store: memoryStore() });
    const audit = server.plugins['express-audit-log'];
    await request(server.info.uri).post('/auth/login').send({}).expect(200);
    await server.stop();
    // Closing flushed what was queued: the entry was written before the store closed.
    expect(audit.stats()).toMatchObject({ recorded: 1, written: 1, dropped: 0 });
    expect(audit.on('error', () => undefined)).toBe(audit);
  });

  it('records a request whose client left before the answer as aborted, with no status', async () => {
    const server = await startHapiApp({ store: memoryStore() }, (s) => {
      s.route({
        method: 'POST',
        path: '/slow/{id}',
        // Answers only once the client has gone.
        handler: async (req) => {
          await new Promise((resolve) => req.raw.res.once('close', resolve));
          return { ok: true };
        },
      });
    });
    try {
      const audit = server.plugins['express-audit-log'];
      const seen = new Promise<void>((resolve) => server.events.once('response', () => resolve()));
      const client = http.request(`${server.info.uri}/slow/9`, { method: 'POST', headers: { 'content-type': 'application/json' } });
      client.on('error', () => undefined);
      client.end('{"a":1}', () => client.destroy());
      await seen;
      const [entry] = await stored(audit);
      expect(entry).toMatchObject({
        action: 'Create',
        collectionName: 'slow',
        documents: ['9'],
        payload: { a: 1 },
        aborted: true,
        isError: true,
        statusCode: null,
        ipAddress: '127.0.0.1',
      });
    } finally {
      await server.stop();
    }
  });

  it('disabled (enabled: false): no routes, nothing recorded, the handle still works', async () => {
    const server = Hapi.server({ host: '127.0.0.1', port: 0 });
    await server.register({ plugin: auditLogHapi, options: { enabled: false } });
    server.route({ method: 'POST', path: '/things', handler: () => ({ ok: true }) });
    await server.start();
    try {
      await request(server.info.uri).post('/things').send({}).expect(200);
      await request(server.info.uri).get('/auditLog').expect(404);
      const audit = server.plugins['express-audit-log'];
      expect(audit.enabled).toBe(false);
      expect(audit.store).toBeNull();
      expect(audit.stats().recorded).toBe(0);
    } finally {
      await server.stop();
    }
  });

  it('bad options fail the registration with the option named', async () => {
    const server = Hapi.server();
    await expect(server.register({ plugin: auditLogHapi, options: { ttl: 'soon' } })).rejects.toThrow(/ttl/);
    // The journal needs spoolDir, as on Express.
    await expect(Hapi.server().register({ plugin: auditLogHapi, options: { store: memoryStore(), durability: 'journal' } })).rejects.toMatchObject({
      option: 'durability',
      message: expect.stringMatching(/set spoolDir too/),
    });
  });
});
