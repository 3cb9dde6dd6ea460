/**
 * rest-hapi's audit-log e2e cases (reference §5), re-expressed for Express, asserted by id and
 * with time tolerance, on every store.
 */
import request from 'supertest';
import type { AuditEntry } from 'express-audit-log';
import { ADMIN, USER, createTestApp, type TestApp } from '../support/app';
import { STORE_KINDS, openStore, type OpenedStore } from '../support/stores';
import { settle } from '../support/wait';

const kinds = process.env.EAL_STORES ? STORE_KINDS.filter((k) => process.env.EAL_STORES!.split(',').includes(k)) : STORE_KINDS;

describe.each(kinds)('recording on the %s store', (kind) => {
  let opened: OpenedStore;
  let t: TestApp;
  let expected = 0;

  beforeAll(async () => {
    opened = await openStore(kind);
    t = createTestApp({
      store: opened.store,
      ttl: '1d',
      scope: ['admin'],
      associations: { 'role.people': 'ONE_MANY', 'role.permission': 'MANY_MANY', 'user.hashtag': '_MANY' },
    });
  });
  afterAll(async () => {
    await t.audit.close();
    await opened.cleanup();
  });

  /** Makes a request, waits until its entry is stored, returns the response and the entry. */
  async function recorded(make: (agent: request.Agent) => request.Test): Promise<{ res: request.Response; entry: AuditEntry }> {
    const res = await make(request.agent(t.app));
    expected++;
    await settle(t.audit, expected);
    const requestId = res.headers['x-request-id'];
    expect(requestId).toEqual(expect.any(String));
    const found = await request(t.app).get('/auditLog').query({ requestId }).set('Authorization', `Bearer ${ADMIN}`);
    expect(found.status).toBe(200);
    expect(found.body.docs).toHaveLength(1);
    return { res, entry: found.body.docs[0] };
  }

  function expectRecent(entry: AuditEntry): void {
    const age = Date.now() - new Date(entry.date).getTime();
    expect(age).toBeGreaterThanOrEqual(0);
    expect(age).toBeLessThan(60_000);
  }

  test('create, single: Create with payload, result and the new id', async () => {
    const { res, entry } = await recorded((a) => a.post('/role').set('Authorization', `Bearer ${USER}`).send({ name: 'User' }));
    expect(res.status).toBe(201);
    expect(entry).toMatchObject({
      method: 'POST',
      action: 'Create',
      endpoint: '/role',
      user: 'user-1',
      collectionName: 'role',
      childCollectionName: null,
      associationType: null,
      params: { model: 'role' },
      payload: { name: 'User' },
      result: res.body,
      documents: [res.body._id],
      statusCode: 201,
      isError: false,
      responseMessage: null,
      truncated: null,
    });
    expectRecent(entry);
    expect(entry.durationMs).toEqual(expect.any(Number));
    expect(entry.ipAddress).toMatch(/127\.0\.0\.1/);
  });

  test('create, bulk: every created id in documents', async () => {
    const { res, entry } = await recorded((a) => a.post('/role').send([{ name: 'Admin' }, { name: 'SuperAdmin' }]));
    expect(entry.payload).toEqual([{ name: 'Admin' }, { name: 'SuperAdmin' }]);
    expect(entry.result).toEqual(res.body);
    expect(entry.documents).toEqual(res.body.map((r: { _id: string }) => r._id));
    expect(entry.user).toBeNull();
  });

  test('create, error: isError, message, no result, no documents, and the password redacted', async () => {
    await request(t.app).post('/user').send({ email: 'dup@x.io', password: 'hunter2' });
    expected++;
    const { res, entry } = await recorded((a) => a.post('/user').send({ email: 'dup@x.io', password: 'hunter2' }));
    expect(res.status).toBe(409);
    expect(entry).toMatchObject({ isError: true, statusCode: 409, responseMessage: 'There was a duplicate key error.', result: null, documents: null });
    expect(entry.payload).toEqual({ email: 'dup@x.io', password: '[REDACTED]' });
    expect(JSON.stringify(entry)).not.toContain('hunter2');
  });

  test('keys MongoDB rejects ($-prefixed, dotted) are stored and returned as sent', async () => {
    const body = { 'a.b': 1, $set: { 'x.y': 2 }, '100%': true, '%2E': 'literal' };
    const { entry } = await recorded((a) => a.post('/role').send(body));
    expect(entry.payload).toEqual(body);
  });

  test('update ok and update error', async () => {
    const created = await request(t.app).post('/user').send({ email: 'u@x.io' });
    expected++;
    const id = created.body._id;
    const ok = await recorded((a) => a.put(`/user/${id}`).send({ email: 'new@x.io' }));
    expect(ok.entry).toMatchObject({
      method: 'PUT',
      action: 'Update',
      endpoint: `/user/${id}`,
      params: { id },
      result: ok.res.body,
      documents: [id],
      user: null,
      statusCode: 200,
    });
    const bad = await recorded((a) => a.put(`/user/${id}`).send({ email: 'error@user.com' }));
    expect(bad.entry).toMatchObject({ action: 'Update', result: null, documents: [id], isError: true, statusCode: 400, responseMessage: 'user error' });
  });

  test('delete one, many, and missing', async () => {
    const made = await request(t.app)
      .post('/user')
      .send([{ email: 'a@d.io' }, { email: 'b@d.io' }, { email: 'c@d.io' }]);
    expected++;
    const [a, b, c] = made.body.map((u: { _id: string }) => u._id);
    const one = await recorded((x) => x.delete(`/user/${a}`).send({}));
    expect(one.entry).toMatchObject({ method: 'DELETE', action: 'Delete', payload: null, documents: [a], statusCode: 204, result: null });
    const many = await recorded((x) => x.delete('/user').send([b, c]));
    expect(many.entry).toMatchObject({ endpoint: '/user', params: { model: 'user' }, payload: [b, c], documents: [b, c], statusCode: 204 });
    const missing = await recorded((x) => x.delete(`/user/${a}`));
    expect(missing.entry).toMatchObject({ isError: true, statusCode: 404, responseMessage: 'No resource was found with that id.' });
  });

  test('hard delete payloads: documents from {_id} objects', async () => {
    const made = await request(t.app)
      .post('/user')
      .send([{ email: 'h1@d.io' }, { email: 'h2@d.io' }]);
    expected++;
    const ids = made.body.map((u: { _id: string }) => u._id);
    const { entry } = await recorded((x) => x.delete('/user').send(ids.map((_id: string) => ({ _id, hardDelete: true }))));
    expect(entry.payload).toEqual(ids.map((_id: string) => ({ _id, hardDelete: true })));
    expect(entry.documents).toEqual(ids);
  });

  test.each([
    ['ONE_MANY', 'role', 'people'],
    ['MANY_MANY', 'role', 'permission'],
    ['_MANY', 'user', 'hashtag'],
  ])('association %s: add one/many, remove one/many, missing owner', async (type, ownerName, child) => {
    const ownerRes = await request(t.app).post(`/${ownerName}`).send({ name: 'owner' });
    expected++;
    const owner = ownerRes.body._id;
    const [c1, c2, c3] = ['65f000000000000000000001', '65f000000000000000000002', '65f000000000000000000003'];

    const addOne = await recorded((x) => x.put(`/${ownerName}/${owner}/${child}/${c1}`));
    expect(addOne.entry).toMatchObject({
      method: 'PUT',
      action: 'Add',
      collectionName: ownerName,
      childCollectionName: child,
      associationType: type,
      documents: [owner, c1],
      payload: null,
    });
    const addMany = await recorded((x) => x.post(`/${ownerName}/${owner}/${child}`).send([{ childId: c2, enabled: true }, c3]));
    expect(addMany.entry).toMatchObject({ method: 'POST', action: 'Add', documents: [owner, c2, c3], associationType: type });
    const removeOne = await recorded((x) => x.delete(`/${ownerName}/${owner}/${child}/${c1}`));
    expect(removeOne.entry).toMatchObject({ method: 'DELETE', action: 'Remove', documents: [owner, c1] });
    const removeMany = await recorded((x) => x.delete(`/${ownerName}/${owner}/${child}`).send([c2, c3]));
    expect(removeMany.entry).toMatchObject({ action: 'Remove', documents: [owner, c2, c3], payload: [c2, c3] });
    const missing = await recorded((x) => x.put(`/${ownerName}/65f0000000000000000000ff/${child}/${c1}`));
    expect(missing.entry).toMatchObject({ action: 'Add', isError: true, statusCode: 404, responseMessage: 'No owner resource was found with that id.' });
  });

  test('reads are not recorded, nor are the audit routes themselves', async () => {
    const before = t.audit.stats().recorded;
    const made = await request(t.app).post('/role').send({ name: 'r' });
    expected++;
    await settle(t.audit, expected);
    await request(t.app).get(`/role/${made.body._id}`).expect(200);
    await request(t.app).get('/auditLog').set('Authorization', `Bearer ${ADMIN}`).expect(200);
    await request(t.app).post('/auditLog').set('Authorization', `Bearer ${ADMIN}`).send({ action: 'Note' }).expect(201);
    expected++; // the manual entry goes through the writer like any entry; the POST itself is not recorded
    // A mutating request after them: once it is recorded, anything recorded before it would show.
    await request(t.app).post('/role').send({ name: 'after' });
    expected++;
    await settle(t.audit, expected);
    expect(t.audit.stats().recorded - before).toBe(3);
  });

  test('unmatched routes and crashes are recorded as errors', async () => {
    const { entry: unmatched } = await recorded((x) => x.post('/nowhere/at/all/here/deep').set('Authorization', `Bearer ${ADMIN}`));
    expect(unmatched).toMatchObject({ statusCode: 404, isError: true, user: 'admin-1', endpoint: '/nowhere/at/all/here/deep' });
    const { entry: crash } = await recorded((x) => x.post('/crash/now').send({ a: 1 }));
    expect(crash).toMatchObject({ statusCode: 500, isError: true, responseMessage: 'An internal server error occurred', result: null });
  });
});
