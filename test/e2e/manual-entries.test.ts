/**
 * `POST {basePath}`: who posted a manual entry is recorded apart from its `user` and cannot be
 * forged; a manual entry never carries a real request's id; writes are never public; and manual
 * entries take the same road as every other entry (templates, strictActions, transform, the
 * writer and its stats), answering 201 once stored and 202 when the store is down (queued, not lost).
 */
import mongoose from 'mongoose';
import request from 'supertest';
import { memoryStore, mongoStore, type AuditEntry, type AuditLogOptions } from 'express-audit-log';
import { ADMIN, USER, createTestApp, token, type TestApp } from '../support/app';
import { startMongo, stopMongo, type MongoTarget } from '../support/mongo';
import { settle } from '../support/wait';

const apps: TestApp[] = [];
afterEach(async () => {
  for (const t of apps.splice(0)) await t.audit.close(1000);
});

function app(options: AuditLogOptions): TestApp {
  const t = createTestApp({ store: memoryStore(), ...options });
  apps.push(t);
  return t;
}

const post = (t: TestApp, body: unknown, bearer: string | null = ADMIN) => {
  const req = request(t.app).post('/auditLog');
  return (bearer ? req.set('Authorization', `Bearer ${bearer}`) : req).send(body as object);
};

describe('who posted it', () => {
  test('postedBy is the caller, whatever user the body names; filterable', async () => {
    const t = app({ scope: 'admin' });
    const res = await post(t, { action: 'Import', user: 'someone-else' }).expect(201);
    expect(res.body).toMatchObject({ action: 'Import', user: 'someone-else', postedBy: 'admin-1' });
    const found = await request(t.app).get('/auditLog').query({ postedBy: 'admin-1' }).set('Authorization', `Bearer ${ADMIN}`).expect(200);
    expect(found.body.docs).toEqual([expect.objectContaining({ _id: res.body._id, user: 'someone-else', postedBy: 'admin-1' })]);
  });

  test('the body cannot set postedBy (nor message, changes)', async () => {
    const t = app({ scope: 'admin' });
    for (const field of ['postedBy', 'message', 'changes']) {
      const res = await post(t, { action: 'Import', [field]: 'x' });
      expect({ field, status: res.status, parameter: res.body.parameter, message: res.body.message }).toEqual({
        field,
        status: 400,
        parameter: field,
        message: `${field} is set by the server and cannot be given.`,
      });
    }
  });

  test('recorded requests have no postedBy', async () => {
    const t = app({ scope: 'admin' });
    await request(t.app).post('/role').set('Authorization', `Bearer ${USER}`).send({ name: 'r' }).expect(201);
    await settle(t.audit, 1);
    const res = await request(t.app).get('/auditLog').set('Authorization', `Bearer ${ADMIN}`).expect(200);
    expect(res.body.docs[0].postedBy ?? null).toBeNull();
  });
});

describe('request ids', () => {
  test("a manual entry never takes the POST's X-Request-Id: each POST gets a fresh id, shared by its entries", async () => {
    const t = app({ scope: 'admin' });
    await request(t.app).post('/role').set('Authorization', `Bearer ${USER}`).set('X-Request-Id', 'real-request-1').send({ name: 'r' }).expect(201);
    const one = await request(t.app)
      .post('/auditLog')
      .set('Authorization', `Bearer ${ADMIN}`)
      .set('X-Request-Id', 'real-request-1')
      .send({ action: 'Note' })
      .expect(201);
    const two = await request(t.app)
      .post('/auditLog')
      .set('Authorization', `Bearer ${ADMIN}`)
      .set('X-Request-Id', 'real-request-1')
      .send([{ action: 'A' }, { action: 'B' }])
      .expect(201);
    expect(one.body.requestId).not.toBe('real-request-1');
    expect(one.body.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(two.body[0].requestId).toBe(two.body[1].requestId);
    expect(two.body[0].requestId).not.toBe(one.body.requestId);
    const sameId = await request(t.app).get('/auditLog').query({ requestId: 'real-request-1' }).set('Authorization', `Bearer ${ADMIN}`).expect(200);
    expect(sameId.body.docs.map((d: AuditEntry) => d.action)).toEqual(['Create']);
  });
});

describe('publicRoutes opens reads only', () => {
  test('GET without auth: 200; POST without auth: 401; POST without the scope: 403; with it: 201', async () => {
    const t = app({ publicRoutes: true, scope: 'admin' });
    await request(t.app).get('/auditLog').expect(200);
    const anonymous = await post(t, { action: 'Forged' }, null);
    expect(anonymous.status).toBe(401);
    expect((await post(t, { action: 'Forged' }, USER)).status).toBe(403);
    await post(t, { action: 'Note' }, ADMIN).expect(201);
    const all = await request(t.app).get('/auditLog').expect(200);
    expect(all.body.docs.map((d: AuditEntry) => [d.action, d.postedBy])).toEqual([['Note', 'admin-1']]);
  });
});

describe('the same road as every entry', () => {
  test('stats count manual entries', async () => {
    const t = app({ scope: 'admin' });
    await post(t, [{ action: 'A' }, { action: 'B' }, { action: 'C' }]).expect(201);
    expect(t.audit.stats()).toMatchObject({ recorded: 3, written: 3 });
  });

  test('action templates render message; strictActions refuses an unregistered action with a 400 naming it', async () => {
    const t = app({ scope: 'admin', strictActions: true, actions: { Import: { message: '{user} imported {documents.0} into {collectionName}' } } });
    const res = await post(t, { action: 'Import', user: 'bob', collectionName: 'users', documents: ['u7'] }).expect(201);
    expect(res.body.message).toBe('bob imported u7 into users');
    const refused = await post(t, [{ action: 'Import' }, { action: 'Typo' }]);
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ parameter: '[1].action', message: expect.stringContaining('the action "Typo" is not registered') });
    expect(t.audit.stats().recorded).toBe(1); // nothing of the refused batch was queued
  });

  test('transform sees manual entries with the POST request, and may change or drop them', async () => {
    const seen: Array<[string | null, string | undefined]> = [];
    const t = app({
      scope: 'admin',
      transform: (entry, req) => {
        seen.push([entry.action, req?.headers['x-tenant'] as string | undefined]);
        return entry.action === 'Drop' ? null : { ...entry, notes: `tenant ${req?.headers['x-tenant']}` };
      },
    });
    const kept = await request(t.app)
      .post('/auditLog')
      .set('Authorization', `Bearer ${ADMIN}`)
      .set('X-Tenant', '7')
      .send([{ action: 'Keep' }, { action: 'Drop' }])
      .expect(201);
    expect(kept.body).toEqual([expect.objectContaining({ action: 'Keep', notes: 'tenant 7' })]);
    expect(seen).toEqual([
      ['Keep', '7'],
      ['Drop', '7'],
    ]);
    await request(t.app).post('/auditLog').set('Authorization', `Bearer ${ADMIN}`).send({ action: 'Drop' }).expect(204);
  });

  test('a transform that throws: 500, reported, nothing of the batch queued', async () => {
    const t = app({
      scope: 'admin',
      transform: (entry) => {
        if (entry.action === 'Bad') throw new Error('tenant lookup failed');
        return entry;
      },
    });
    const errors: Error[] = [];
    t.audit.on('error', (error) => errors.push(error));
    const res = await post(t, [{ action: 'Fine' }, { action: 'Bad' }]);
    expect(res.status).toBe(500);
    expect(res.body.message).toMatch(/transform option failed/);
    expect(errors.map((e) => e.message)).toEqual([expect.stringContaining('tenant lookup failed')]);
    expect(t.audit.stats().recorded).toBe(0);
  });

  test('transform sees events outside a request too, with req null', async () => {
    const seen: Array<[string | null, unknown]> = [];
    const t = app({
      scope: 'admin',
      transform: (entry, req) => {
        seen.push([entry.action, req]);
        return { ...entry, notes: req ? 'http' : 'job' };
      },
    });
    t.audit.record(null, { action: 'Nightly' });
    await settle(t.audit, 1);
    expect(seen).toEqual([['Nightly', null]]);
    const res = await request(t.app).get('/auditLog').set('Authorization', `Bearer ${ADMIN}`).expect(200);
    expect(res.body.docs[0]).toMatchObject({ action: 'Nightly', notes: 'job' });
  });
});

// Fault injection needs the in-process server; against a real MONGODB_URI this is skipped.
(process.env.MONGODB_URI ? describe.skip : describe)('store down (MongoDB, wire-protocol server with fault injection)', () => {
  let target: MongoTarget;
  let connection: mongoose.Connection;

  beforeEach(async () => {
    target = await startMongo();
    connection = await mongoose.createConnection(target.uri, { dbName: target.dbName, serverSelectionTimeoutMS: 500 }).asPromise();
  });
  afterEach(async () => {
    target.server!.faults.clear();
    for (const t of apps.splice(0)) await t.audit.close(1000);
    await connection.close();
    await stopMongo(target);
  });

  test('inserts failing: 202 with the entry, which is written once the store is back', async () => {
    const t = app({ store: mongoStore({ connection }), scope: 'admin', retryMinDelayMs: 5, retryMaxDelayMs: 20 });
    await t.audit.flush(); // the store has started
    target.server!.faults.failNext(1_000_000, { command: 'insert', code: 91, codeName: 'ShutdownInProgress' });
    const res = await post(t, { action: 'Note', notes: 'during the outage' });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ action: 'Note', notes: 'during the outage', postedBy: 'admin-1' });
    expect(t.audit.stats()).toMatchObject({ recorded: 1, written: 0, queued: 1 });
    target.server!.faults.clear();
    await settle(t.audit, 1);
    expect(await connection.db!.collection('auditLog').countDocuments({ notes: 'during the outage' })).toBe(1);
  });

  test('inserts stalled: 202 by the deadline instead of hanging the request', async () => {
    const t = app({ store: mongoStore({ connection }), scope: 'admin' });
    await t.audit.flush();
    target.server!.faults.delay(600_000, { command: 'insert' });
    const res = await post(t, { action: 'Note' });
    expect(res.status).toBe(202);
  }, 15_000);
});

test('a token without a user id may still post; postedBy is then null', async () => {
  const t = app({ scope: 'admin' });
  const res = await post(t, { action: 'Note' }, token({ scope: 'admin' })).expect(201);
  expect(res.body.postedBy).toBeNull();
});
