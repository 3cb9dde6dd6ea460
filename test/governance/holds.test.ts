/**
 * Retention rules and legal holds on every store, through real HTTP: each entry's expiry from the
 * first matching rule (else ttl), the retention route, holds that keep entries past their expiry
 * (also entries written after the hold) until released, then the TTL removes them; placing and
 * releasing recorded; integrity still verifies; another instance sharing the store learns of a hold.
 */
import request from 'supertest';
import { token, createTestApp, type TestApp } from '../support/app';
import { STORE_KINDS, openStore, type OpenedStore } from '../support/stores';

const kinds = process.env.EAL_STORES ? STORE_KINDS.filter((k) => process.env.EAL_STORES!.split(',').includes(k)) : STORE_KINDS;
const DAY = 86_400;
// Made at each use: a token expires, and some tests move the clock.
const admin = () => token({ sub: 'admin-1', scope: 'admin' });
const lawyer = () => token({ sub: 'lawyer-1', scope: 'admin legal' });
const as = (sub: string) => token({ sub, scope: 'user' });
const RETENTION = [
  { action: 'Login', ttl: '30d' },
  { collectionName: 'payments', ttl: '7y' },
  { action: 'Export', ttl: 0 },
];

/** Only Date moves: the writer's and the stores' timers keep real time. */
function travel(ms: number): void {
  jest.useFakeTimers({
    now: Date.now() + ms,
    doNotFake: [
      'setTimeout',
      'clearTimeout',
      'setInterval',
      'clearInterval',
      'setImmediate',
      'clearImmediate',
      'nextTick',
      'queueMicrotask',
      'hrtime',
      'performance',
    ],
  });
}

afterEach(() => jest.useRealTimers());

async function entries(t: TestApp, query: string): Promise<Array<Record<string, unknown>>> {
  const res = await request(t.app).get(`/auditLog?${query}&$limit=100`).set('Authorization', `Bearer ${admin()}`).expect(200);
  return res.body.docs;
}

describe.each(kinds)('retention and legal holds on the %s store', (kind) => {
  let opened: OpenedStore;
  let t: TestApp;

  beforeEach(async () => {
    opened = await openStore(kind);
  });
  afterEach(async () => {
    await t?.audit.close();
    await opened.cleanup();
  });

  const expire = async () => void (await opened.mongo?.server?.runTtlMonitor());

  test('each entry expires by the first rule that matches it, else ttl; the retention route shows the rules with what they govern', async () => {
    t = createTestApp({ store: opened.store, scope: 'admin', ttl: '1d', retention: RETENTION });
    await request(t.app)
      .post('/payments')
      .set('Authorization', `Bearer ${as('alice')}`)
      .send({ amount: 1 })
      .expect(201);
    await request(t.app)
      .post('/roles')
      .set('Authorization', `Bearer ${as('alice')}`)
      .send({ name: 'r' })
      .expect(201);
    t.audit.record(null, { action: 'Login', user: 'alice' });
    await request(t.app).get('/auditLog/export').set('Authorization', `Bearer ${admin()}`).expect(200);
    await t.audit.flush();

    const expiry = async (query: string) => {
      const [entry] = await entries(t, query);
      return entry!.expireAt === null ? null : (new Date(entry!.expireAt as string).getTime() - new Date(entry!.date as string).getTime()) / 1000;
    };
    expect(await expiry('collectionName=payments')).toBe(7 * 365.25 * DAY);
    expect(await expiry('collectionName=roles')).toBe(DAY);
    expect(await expiry('action=Login')).toBe(30 * DAY);
    expect(await expiry('action=Export')).toBeNull();

    const report = await request(t.app).get('/auditLog/retention').set('Authorization', `Bearer ${admin()}`).expect(200);
    expect(report.body.rules.map((line: Record<string, unknown>) => [line.action, line.collectionName, line.ttl, line.default, line.entries])).toEqual([
      ['Login', null, 30 * DAY, false, 1],
      [null, 'payments', 7 * 365.25 * DAY, false, 1],
      ['Export', null, null, false, 1],
      [null, null, DAY, true, 1],
    ]);
    const payments = report.body.rules[1];
    const [payment] = await entries(t, 'collectionName=payments');
    expect(payments.oldestExpiry).toBe(payment!.expireAt);
    expect(report.body.rules[2].oldestExpiry).toBeNull();
    await request(t.app).get('/auditLog/retention').expect(401);
  });

  test('a changed ttl or rule reaches the entries already stored at the next start, except held ones', async () => {
    t = createTestApp({ store: opened.store, scope: 'admin', ttl: '1d', holdScope: 'legal' });
    await request(t.app)
      .post('/roles')
      .set('Authorization', `Bearer ${as('alice')}`)
      .send({})
      .expect(201);
    await request(t.app)
      .post('/payments')
      .set('Authorization', `Bearer ${as('alice')}`)
      .send({})
      .expect(201);
    await request(t.app)
      .post('/roles')
      .set('Authorization', `Bearer ${as('bob')}`)
      .send({})
      .expect(201);
    await t.audit.flush();
    const { body } = await request(t.app)
      .post('/auditLog/holds')
      .set('Authorization', `Bearer ${lawyer()}`)
      .send({ filter: { user: 'bob' }, reason: 'r' })
      .expect(201);
    await t.audit.close();

    t = createTestApp({ store: opened.store, scope: 'admin', ttl: '2d', holdScope: 'legal', retention: [{ collectionName: 'payments', ttl: 0 }] });
    await t.audit.flush();
    const lifetime = (entry: Record<string, unknown> | undefined) =>
      entry!.expireAt === null ? null : (new Date(entry!.expireAt as string).getTime() - new Date(entry!.date as string).getTime()) / 1000;
    expect(lifetime((await entries(t, 'user=alice&collectionName=roles'))[0])).toBe(2 * DAY);
    expect(lifetime((await entries(t, 'collectionName=payments'))[0])).toBeNull();
    expect((await entries(t, 'user=bob'))[0]).toMatchObject({ expireAt: null, holds: [body._id] });
    // Released, it takes the policy now in force.
    await request(t.app).delete(`/auditLog/holds/${body._id}`).set('Authorization', `Bearer ${lawyer()}`).expect(200);
    expect(lifetime((await entries(t, 'user=bob'))[0])).toBe(2 * DAY);
  });

  test('a hold keeps what it covers past its expiry, entries written later too; released, the TTL removes them; both are recorded', async () => {
    t = createTestApp({ store: opened.store, scope: 'admin', ttl: '1d', holdScope: 'legal' });
    for (const user of ['alice', 'alice', 'bob'])
      await request(t.app)
        .post('/roles')
        .set('Authorization', `Bearer ${as(user)}`)
        .send({})
        .expect(201);
    await t.audit.flush();

    const placed = await request(t.app)
      .post('/auditLog/holds')
      .set('Authorization', `Bearer ${lawyer()}`)
      .send({ filter: { user: 'alice' }, reason: 'case 42' })
      .expect(201);
    expect(placed.body).toMatchObject({
      _id: expect.stringMatching(/^[0-9a-f]{24}$/),
      reason: 'case 42',
      filter: { user: 'alice' },
      placedBy: 'lawyer-1',
      active: true,
      held: 2,
    });
    const id = placed.body._id as string;
    // Written after the hold: held too.
    await request(t.app)
      .post('/roles')
      .set('Authorization', `Bearer ${as('alice')}`)
      .send({})
      .expect(201);
    await t.audit.flush();
    const alice = await entries(t, 'user=alice');
    expect(alice).toHaveLength(3);
    for (const entry of alice) expect(entry).toMatchObject({ expireAt: null, holds: [id] });
    const [record] = await entries(t, 'action=PlaceHold');
    expect(record).toMatchObject({ user: 'lawyer-1', documents: [id], payload: { reason: 'case 42', filter: { user: 'alice' } }, result: { held: 2 } });

    const listed = await request(t.app).get('/auditLog/holds').set('Authorization', `Bearer ${lawyer()}`).expect(200);
    expect(listed.body).toEqual([expect.objectContaining({ _id: id, active: true, releasedAt: null })]);

    // Two days on: bob's entry is past its day, alice's are held.
    travel(2 * DAY * 1000);
    await expire();
    expect(await opened.store.count({ user: 'bob' })).toBe(0);
    expect(await opened.store.count({ user: 'alice' })).toBe(3);

    const released = await request(t.app).delete(`/auditLog/holds/${id}`).set('Authorization', `Bearer ${lawyer()}`).expect(200);
    expect(released.body).toMatchObject({ _id: id, active: false, releasedBy: 'lawyer-1', released: 3 });
    await expire();
    expect(await opened.store.count({ user: 'alice' })).toBe(0);
    const [release] = await entries(t, 'action=ReleaseHold');
    expect(release).toMatchObject({ user: 'lawyer-1', documents: [id], result: { released: 3 } });
    // Released once: a second release changes and records nothing.
    await request(t.app).delete(`/auditLog/holds/${id}`).set('Authorization', `Bearer ${lawyer()}`).expect(200);
    expect(await entries(t, 'action=ReleaseHold')).toHaveLength(1);
    const after = await request(t.app).get('/auditLog/holds').set('Authorization', `Bearer ${lawyer()}`).expect(200);
    expect(after.body).toEqual([expect.objectContaining({ _id: id, active: false })]);
  });

  test('an entry two holds cover keeps the other when one is released', async () => {
    t = createTestApp({ store: opened.store, scope: 'admin', ttl: '1d', holdScope: 'legal' });
    await request(t.app)
      .post('/payments')
      .set('Authorization', `Bearer ${as('alice')}`)
      .send({})
      .expect(201);
    await t.audit.flush();
    const place = (filter: Record<string, string>) =>
      request(t.app).post('/auditLog/holds').set('Authorization', `Bearer ${lawyer()}`).send({ filter, reason: 'r' }).expect(201);
    const first = (await place({ user: 'alice' })).body._id;
    const second = (await place({ collectionName: 'payments' })).body._id;
    await request(t.app).delete(`/auditLog/holds/${first}`).set('Authorization', `Bearer ${lawyer()}`).expect(200);
    const [entry] = await entries(t, 'collectionName=payments');
    expect(entry).toMatchObject({ expireAt: null, holds: [second] });
    await request(t.app).delete(`/auditLog/holds/${second}`).set('Authorization', `Bearer ${lawyer()}`).expect(200);
    const [back] = await entries(t, 'collectionName=payments');
    expect(back!.holds).toBeUndefined();
    expect(new Date(back!.expireAt as string).getTime() - new Date(back!.date as string).getTime()).toBe(DAY * 1000);
  });

  test('with integrity on, placing and releasing a hold leaves the log verifiable', async () => {
    t = createTestApp({ store: opened.store, scope: 'admin', ttl: '1d', holdScope: 'legal', integrity: true });
    for (const user of ['alice', 'bob'])
      await request(t.app)
        .post('/roles')
        .set('Authorization', `Bearer ${as(user)}`)
        .send({})
        .expect(201);
    await t.audit.flush();
    const { body } = await request(t.app)
      .post('/auditLog/holds')
      .set('Authorization', `Bearer ${lawyer()}`)
      .send({ filter: { user: 'alice' }, reason: 'r' })
      .expect(201);
    expect(body.held).toBe(1);
    const held = await request(t.app).get('/auditLog/verify').set('Authorization', `Bearer ${admin()}`).expect(200);
    expect(held.body.ok).toBe(true);
    await request(t.app).delete(`/auditLog/holds/${body._id}`).set('Authorization', `Bearer ${lawyer()}`).expect(200);
    const released = await request(t.app).get('/auditLog/verify').set('Authorization', `Bearer ${admin()}`).expect(200);
    expect(released.body.ok).toBe(true);
  });

  test('another instance on the same store marks what it wrote before it knew of a hold, once it refreshes (every 30 s, or on a hold route)', async () => {
    t = createTestApp({ store: opened.store, scope: 'admin', ttl: '1d', holdScope: 'legal' });
    const other = createTestApp({ store: opened.store, scope: 'admin', ttl: '1d', holdScope: 'legal' });
    try {
      await request(other.app)
        .post('/roles')
        .set('Authorization', `Bearer ${as('carol')}`)
        .send({})
        .expect(201);
      await other.audit.flush();
      const { body } = await request(t.app)
        .post('/auditLog/holds')
        .set('Authorization', `Bearer ${lawyer()}`)
        .send({ filter: { user: 'carol' }, reason: 'r' })
        .expect(201);
      // Written by the other instance before it learnt of the hold: not marked yet.
      await request(other.app)
        .post('/roles')
        .set('Authorization', `Bearer ${as('carol')}`)
        .send({})
        .expect(201);
      await other.audit.flush();
      expect(await opened.store.count({ user: 'carol', holds: body._id })).toBe(1);
      await request(other.app).get('/auditLog/holds').set('Authorization', `Bearer ${lawyer()}`).expect(200);
      expect(await opened.store.count({ user: 'carol', holds: body._id })).toBe(2);
      // And from now on it writes held entries itself.
      await request(other.app)
        .post('/roles')
        .set('Authorization', `Bearer ${as('carol')}`)
        .send({})
        .expect(201);
      await other.audit.flush();
      expect(await opened.store.count({ user: 'carol', holds: body._id })).toBe(3);
    } finally {
      await other.audit.close();
    }
  });
});

describe('hold routes: who may call them, and what they accept', () => {
  let t: TestApp;
  afterEach(async () => t.audit.close());

  test('without holdScope every hold route answers 403; without the scope 403; without auth 401', async () => {
    const { memoryStore } = await import('express-audit-log');
    t = createTestApp({ store: memoryStore(), scope: 'admin' });
    const off = await request(t.app).get('/auditLog/holds').set('Authorization', `Bearer ${lawyer()}`).expect(403);
    expect(off.body.message).toMatch(/holdScope/);
    await request(t.app).post('/auditLog/holds').set('Authorization', `Bearer ${lawyer()}`).send({ reason: 'r' }).expect(403);
    await t.audit.close();

    t = createTestApp({ store: memoryStore(), scope: 'admin', holdScope: 'legal' });
    await request(t.app).get('/auditLog/holds').expect(401);
    const denied = await request(t.app).post('/auditLog/holds').set('Authorization', `Bearer ${admin()}`).send({ reason: 'r' }).expect(403);
    expect(denied.body.message).toMatch(/legal holds need one of \[legal\]/);
    await request(t.app).delete('/auditLog/holds/0123456789abcdef01234567').set('Authorization', `Bearer ${admin()}`).expect(403);
  });

  test('a bad body is a 400 naming what is wrong; an unknown id is a 404', async () => {
    const { memoryStore } = await import('express-audit-log');
    t = createTestApp({ store: memoryStore(), scope: 'admin', holdScope: 'legal' });
    const post = (body: unknown) =>
      request(t.app)
        .post('/auditLog/holds')
        .set('Authorization', `Bearer ${lawyer()}`)
        .send(body as object);
    expect((await post({ filter: { user: 'a' } }).expect(400)).body.parameter).toBe('reason');
    expect((await post({ filter: { usr: 'a' }, reason: 'r' }).expect(400)).body).toMatchObject({
      parameter: 'filter.usr',
      message: expect.stringMatching(/Did you mean 'user'/),
    });
    expect((await post({ filter: { $limit: '5' }, reason: 'r' }).expect(400)).body.parameter).toBe('filter.$limit');
    expect((await post({ filter: { user: { $ne: 'a' } }, reason: 'r' }).expect(400)).body.parameter).toBe('filter.user');
    await request(t.app).delete('/auditLog/holds/0123456789abcdef01234567').set('Authorization', `Bearer ${lawyer()}`).expect(404);
    await request(t.app).delete('/auditLog/holds/nope').set('Authorization', `Bearer ${lawyer()}`).expect(404);
  });
});

describe('stamping never blocks the writer', () => {
  test.each(kinds)('an entry a transform froze is stored with its expiry (%s store)', async (kind) => {
    const opened = await openStore(kind);
    const t = createTestApp({ store: opened.store, scope: 'admin', ttl: '1d', transform: (entry) => Object.freeze({ ...entry }) });
    try {
      await request(t.app)
        .post('/roles')
        .set('Authorization', `Bearer ${as('alice')}`)
        .send({})
        .expect(201);
      await t.audit.flush();
      const [entry] = await entries(t, 'user=alice');
      expect(new Date(entry!.expireAt as string).getTime() - new Date(entry!.date as string).getTime()).toBe(DAY * 1000);
      expect(t.audit.stats()).toMatchObject({ written: 1, failed: 0 });
    } finally {
      await t.audit.close();
      await opened.cleanup();
    }
  });
});
