/**
 * Legal holds with `encryption` on: entries store `user` sealed (null) with its blind index, so a
 * hold on `user` must be matched through that index, as the list route's `?user=` is; for the
 * entries stored when it is placed and for those written after.
 */
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { token, createTestApp, type TestApp } from '../support/app';
import { STORE_KINDS, openStore, type OpenedStore } from '../support/stores';

const kinds = process.env.EAL_STORES ? STORE_KINDS.filter((k) => process.env.EAL_STORES!.split(',').includes(k)) : STORE_KINDS;
const lawyer = () => token({ sub: 'lawyer-1', scope: 'admin legal' });
const as = (sub: string) => token({ sub, scope: 'user' });

describe.each(kinds)('a hold on user with encryption on, %s store', (kind) => {
  let opened: OpenedStore;
  let t: TestApp;

  beforeEach(async () => {
    opened = await openStore(kind);
  });
  afterEach(async () => {
    await t?.audit.close();
    await opened.cleanup();
  });

  test("holds the user's sealed entries, stored and to come, and no one else's", async () => {
    t = createTestApp({ store: opened.store, scope: 'admin', ttl: '1d', holdScope: 'legal', encryption: { masterKey: randomBytes(32) } });
    const post = (user: string) =>
      request(t.app)
        .post('/roles')
        .set('Authorization', `Bearer ${as(user)}`)
        .send({ name: user })
        .expect(201);
    await post('alice');
    await post('bob');
    await t.audit.flush();

    const placed = await request(t.app)
      .post('/auditLog/holds')
      .set('Authorization', `Bearer ${lawyer()}`)
      .send({ filter: { user: 'alice' }, reason: 'case 7' })
      .expect(201);
    expect(placed.body.held).toBe(1);
    await post('alice');
    await t.audit.flush();

    const stored = (await opened.store.find({ filter: {}, sort: [['date', 1]], skip: 0, limit: 100, select: null })).docs.filter(
      (doc) => doc.action === 'Create',
    );
    // Sealed: the store holds no user, only the blind index.
    expect(stored.map((doc) => doc.user ?? null)).toEqual([null, null, null]);
    expect(stored.map((doc) => doc.holds ?? null)).toEqual([[placed.body._id], null, [placed.body._id]]);
    expect(stored.map((doc) => doc.expireAt)).toEqual([null, expect.any(Date), null]);
  });
});
