/** The list, find, history and manual-entry routes, on every store. */
import request from 'supertest';
import { ObjectId } from 'bson';
import type { AuditEntry, AuditStore } from 'express-audit-log';
import { ADMIN, createTestApp, type TestApp } from '../support/app';
import { STORE_KINDS, openStore, type OpenedStore } from '../support/stores';

const kinds = process.env.EAL_STORES ? STORE_KINDS.filter((k) => process.env.EAL_STORES!.split(',').includes(k)) : STORE_KINDS;
const HOUR = 3600_000;

function entry(overrides: Partial<AuditEntry>): AuditEntry {
  return {
    _id: new ObjectId().toHexString(),
    date: new Date(),
    method: 'POST',
    action: 'Create',
    endpoint: '/role',
    user: null,
    collectionName: 'role',
    childCollectionName: null,
    associationType: null,
    documents: null,
    payload: null,
    params: null,
    result: null,
    statusCode: 201,
    isError: false,
    responseMessage: null,
    ipAddress: '127.0.0.1',
    notes: null,
    requestId: null,
    traceId: null,
    durationMs: 1,
    userAgent: null,
    truncated: null,
    ...overrides,
  };
}

describe.each(kinds)('query routes on the %s store', (kind) => {
  let opened: OpenedStore;
  let store: AuditStore;
  let t: TestApp;
  const now = Date.now();
  const seeded: AuditEntry[] = [];

  const get = (query: Record<string, unknown> | string = {}) => request(t.app).get('/auditLog').query(query).set('Authorization', `Bearer ${ADMIN}`);

  beforeAll(async () => {
    opened = await openStore(kind);
    store = opened.store;
    t = createTestApp({ store, scope: 'admin' });
    await t.audit.flush(); // the store is initialised
    for (let i = 0; i < 30; i++) {
      seeded.push(
        entry({
          date: new Date(now - i * HOUR),
          user: i % 3 === 0 ? 'alice' : i % 3 === 1 ? 'bob' : 'auth0|carol',
          action: i % 2 === 0 ? 'Create' : 'Delete',
          method: i % 2 === 0 ? 'POST' : 'DELETE',
          statusCode: i % 5 === 0 ? 500 : 201,
          isError: i % 5 === 0,
          documents: [`doc-${i}`, 'shared'],
          collectionName: i < 10 ? 'role' : 'user',
          notes: i === 7 ? 'price (USD) was 1.5*2? [sic]' : null,
          payload: i === 3 ? { nested: { deep: 'value' } } : null,
        }),
      );
    }
    await store.insertMany(seeded);
  });
  afterAll(async () => {
    await t.audit.close();
    await opened.cleanup();
  });

  test('default list: newest first, rest-hapi shape, $limit 20', async () => {
    const res = await get().expect(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.body.docs).toHaveLength(20);
    expect(res.body.docs[0]._id).toBe(seeded[0]!._id);
    const dates = res.body.docs.map((d: AuditEntry) => new Date(d.date).getTime());
    expect([...dates].sort((a, b) => b - a)).toEqual(dates);
    expect(res.body.pages).toEqual({ current: 1, prev: 0, hasPrev: false, next: 2, hasNext: true, total: 2 });
    expect(res.body.items).toEqual({ limit: 20, begin: 1, end: 20, total: 30 });
  });

  test('$page and $limit page through without overlap', async () => {
    const page2 = await get({ $limit: 7, $page: 2 }).expect(200);
    expect(page2.body.docs.map((d: AuditEntry) => d._id)).toEqual(seeded.slice(7, 14).map((e) => e._id));
    expect(page2.body.pages).toMatchObject({ current: 2, hasPrev: true, hasNext: true, total: 5 });
    expect(page2.body.items).toEqual({ limit: 7, begin: 8, end: 14, total: 30 });
    const last = await get({ $limit: 7, $page: 5 }).expect(200);
    expect(last.body.docs).toHaveLength(2);
    expect(last.body.items).toMatchObject({ begin: 29, end: 30 });
    expect(last.body.pages.hasNext).toBe(false);
    const skipped = await get({ $skip: 28 }).expect(200);
    expect(skipped.body.docs.map((d: AuditEntry) => d._id)).toEqual(seeded.slice(28).map((e) => e._id));
  });

  test('field filters: one value, repeated values (any of), typed values, null', async () => {
    const alice = await get({ user: 'alice', $limit: 100 }).expect(200);
    expect(alice.body.items.total).toBe(10);
    expect(alice.body.docs.every((d: AuditEntry) => d.user === 'alice')).toBe(true);
    const either = await get('user=alice&user=auth0%7Ccarol&$limit=100').expect(200);
    expect(either.body.items.total).toBe(20);
    const errors = await get({ isError: 'true', statusCode: '500' }).expect(200);
    expect(errors.body.items.total).toBe(6);
    const byDoc = await get({ documents: 'doc-4' }).expect(200);
    expect(byDoc.body.docs.map((d: AuditEntry) => d._id)).toEqual([seeded[4]!._id]);
    const jsonList = await get({ documents: '["doc-4","doc-5"]' }).expect(200);
    expect(jsonList.body.items.total).toBe(2);
    const noNotes = await get({ notes: 'null', $count: 'true' }).expect(200);
    expect(noNotes.body).toBe(29);
  });

  test('from/to: ISO dates and durations ago', async () => {
    const recent = await get({ from: '5h', $limit: 100 }).expect(200);
    // 'now' was taken before seeding, so the entry dated now-5h is inside a window opened later.
    expect(recent.body.items.total).toBe(5);
    const window = await get({ from: new Date(now - 10.5 * HOUR).toISOString(), to: new Date(now - 2.5 * HOUR).toISOString(), $limit: 100 }).expect(200);
    expect(window.body.docs.map((d: AuditEntry) => d._id)).toEqual(seeded.slice(3, 11).map((e) => e._id));
    const bad = await get({ from: 'yesterday' }).expect(400);
    expect(bad.body.message).toMatch(/from/);
    await get({ from: new Date(now).toISOString(), to: new Date(now - HOUR).toISOString() }).expect(400);
  });

  test('$sort, $select and $count', async () => {
    const sorted = await get({ $sort: 'statusCode,-date', $limit: 3 }).expect(200);
    expect(sorted.body.docs.map((d: AuditEntry) => d.statusCode)).toEqual([201, 201, 201]);
    expect(sorted.body.docs[0]._id).toBe(seeded[1]!._id);
    const selected = await get({ $select: 'user,action', $limit: 1 }).expect(200);
    expect(Object.keys(selected.body.docs[0]).sort()).toEqual(['_id', 'action', 'user']);
    const count = await get({ $count: 'true', action: 'Delete' }).expect(200);
    expect(count.body).toBe(15);
  });

  test('$term is literal and case-insensitive, across text fields or $searchFields', async () => {
    const literal = await get({ $term: '(usd) WAS 1.5*2? [SIC]' }).expect(200);
    expect(literal.body.docs.map((d: AuditEntry) => d._id)).toEqual([seeded[7]!._id]);
    const noRegex = await get({ $term: '.*' }).expect(200);
    expect(noRegex.body.items.total).toBe(0);
    const scoped = await get({ $term: 'carol', $searchFields: 'user', $count: 'true' }).expect(200);
    expect(scoped.body).toBe(10);
    const long = await get({ $term: 'x'.repeat(300) }).expect(400);
    expect(long.body.parameter).toBe('$term');
  });

  test('$where: allowed operators work; dangerous ones are refused', async () => {
    const ok = await get({ $where: JSON.stringify({ $or: [{ statusCode: { $gte: 500 } }, { user: 'bob' }] }), $count: 'true' }).expect(200);
    expect(ok.body).toBe(6 + 10 - 2);
    const nested = await get({ $where: JSON.stringify({ 'payload.nested.deep': 'value' }) }).expect(200);
    expect(nested.body.docs.map((d: AuditEntry) => d._id)).toEqual([seeded[3]!._id]);
    for (const where of [
      { $where: 'sleep(1000)' },
      { statusCode: { $where: '1' } },
      { $expr: { $gt: ['$statusCode', 0] } },
      { user: { $function: { body: 'x' } } },
      { user: { $regex: '(a+)+$' } },
      { 'user.$x': 1 },
      { unknownField: 1 },
    ]) {
      const res = await get({ $where: JSON.stringify(where) }).expect(400);
      expect(res.body.parameter).toBe('$where');
    }
    await get({ $where: '{not json' }).expect(400);
  });

  test('bad parameters: 400 naming the parameter, with a hint', async () => {
    const cases: Array<[Record<string, string> | string, string]> = [
      [{ usr: 'alice' }, 'usr'],
      ['user[$ne]=x', 'user[$ne]'],
      [{ statusCode: '{"$gt":0}' }, 'statusCode'],
      [{ $limit: '0' }, '$limit'],
      [{ $limit: '1001' }, '$limit'],
      [{ $limit: '-1' }, '$limit'],
      [{ $page: '0' }, '$page'],
      [{ $skip: 'x' }, '$skip'],
      [{ $sort: 'payload' }, '$sort'],
      [{ $select: 'pasword' }, '$select'],
      [{ isError: 'yes' }, 'isError'],
      [{ _id: 'nope' }, '_id'],
      [{ associationType: 'MANY' }, 'associationType'],
      [{ $count: 'maybe' }, '$count'],
      [{ $text: 'x' }, '$text'],
      ['$page=1&$skip=2', '$skip'],
      ['$limit=1&$limit=2', '$limit'],
    ];
    for (const [query, parameter] of cases) {
      const res = await get(query);
      expect({ query, status: res.status }).toEqual({ query, status: 400 });
      expect(res.body.parameter).toBe(parameter);
      expect(res.body.message).toEqual(expect.any(String));
      expect(JSON.stringify(res.body)).not.toContain('alice'); // no audit data in errors
    }
    const hint = await get({ usr: 'alice' });
    expect(hint.body.message).toMatch(/Did you mean 'user'/);
  });

  test('GET /auditLog/:id: the entry, 404 when missing, 400 when malformed', async () => {
    const one = await request(t.app).get(`/auditLog/${seeded[2]!._id}`).set('Authorization', `Bearer ${ADMIN}`).expect(200);
    expect(one.body).toMatchObject({ _id: seeded[2]!._id, user: 'auth0|carol', documents: ['doc-2', 'shared'] });
    expect(new Date(one.body.date).getTime()).toBe(seeded[2]!.date.getTime());
    const selected = await request(t.app).get(`/auditLog/${seeded[2]!._id}?$select=user`).set('Authorization', `Bearer ${ADMIN}`).expect(200);
    expect(selected.body).toEqual({ _id: seeded[2]!._id, user: 'auth0|carol' });
    await request(t.app).get(`/auditLog/${new ObjectId().toHexString()}`).set('Authorization', `Bearer ${ADMIN}`).expect(404);
    const bad = await request(t.app).get('/auditLog/not-an-id').set('Authorization', `Bearer ${ADMIN}`).expect(400);
    expect(bad.body.parameter).toBe('id');
  });

  test('history of one document: newest first, by collection', async () => {
    const res = await request(t.app).get('/auditLog/history/user/doc-12').set('Authorization', `Bearer ${ADMIN}`).expect(200);
    expect(res.body.docs.map((d: AuditEntry) => d._id)).toEqual([seeded[12]!._id]);
    const shared = await request(t.app).get('/auditLog/history/role/shared?$limit=100').set('Authorization', `Bearer ${ADMIN}`).expect(200);
    expect(shared.body.items.total).toBe(10);
  });

  test('POST /auditLog: manual entries validated, server fields not forgeable, 201', async () => {
    const one = await request(t.app)
      .post('/auditLog')
      .set('Authorization', `Bearer ${ADMIN}`)
      .send({ action: 'Export', notes: 'quarterly', documents: [1, 'b'], payload: { token: 'abc' } })
      .expect(201);
    expect(one.body).toMatchObject({
      action: 'Export',
      notes: 'quarterly',
      user: 'admin-1',
      documents: ['1', 'b'],
      isError: false,
      payload: { token: '[REDACTED]' },
    });
    const stored = await request(t.app).get(`/auditLog/${one.body._id}`).set('Authorization', `Bearer ${ADMIN}`).expect(200);
    expect(stored.body.action).toBe('Export');
    const many = await request(t.app)
      .post('/auditLog')
      .set('Authorization', `Bearer ${ADMIN}`)
      .send([{ action: 'A' }, { action: 'B', user: 'someone' }])
      .expect(201);
    expect(many.body.map((e: AuditEntry) => [e.action, e.user])).toEqual([
      ['A', 'admin-1'],
      ['B', 'someone'],
    ]);
    for (const [body, parameter] of [
      [{ action: 'X', date: '2001-01-01' }, 'date'],
      [{ action: 'X', ipAddress: '1.2.3.4' }, 'ipAddress'],
      [{ notes: 'no action' }, 'action'],
      [{ action: 'X', statusCode: 99 }, 'statusCode'],
      [{ action: 'X', bogus: 1 }, 'bogus'],
      [[{ action: 'ok' }, { action: 'X', isError: 'yes' }], '[1].isError'],
      [[], 'body'],
    ] as const) {
      const res = await request(t.app)
        .post('/auditLog')
        .set('Authorization', `Bearer ${ADMIN}`)
        .send(body as object);
      expect({ body, status: res.status, parameter: res.body.parameter }).toEqual({ body, status: 400, parameter });
    }
  });

  test('the log is append-only over HTTP: 405 with Allow', async () => {
    for (const method of ['put', 'patch', 'delete'] as const) {
      const res = await request(t.app)[method](`/auditLog/${seeded[0]!._id}`).set('Authorization', `Bearer ${ADMIN}`);
      expect(res.status).toBe(405);
      expect(res.headers.allow).toBe('GET, HEAD');
      const list = await request(t.app)[method]('/auditLog').set('Authorization', `Bearer ${ADMIN}`);
      expect(list.status).toBe(405);
      expect(list.headers.allow).toBe('GET, HEAD, POST');
    }
    const still = await request(t.app).get(`/auditLog/${seeded[0]!._id}`).set('Authorization', `Bearer ${ADMIN}`);
    expect(still.status).toBe(200);
  });
});
