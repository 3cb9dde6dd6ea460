/**
 * `GET /auditLog/stats` counts entries per time bucket and per group, errors apart, with the
 * list route's filters and scope, on every store (MongoDB: an aggregation run by the server).
 */
import request from 'supertest';
import { ObjectId } from 'bson';
import { memoryStore, type AuditEntry, type AuditStore } from 'express-audit-log';
import { ADMIN, USER, createTestApp, token, type TestApp } from '../support/app';
import { blankEntry } from '../../src/entry';
import { STORE_KINDS, openStore, type OpenedStore } from '../support/stores';

const kinds = process.env.EAL_STORES ? STORE_KINDS.filter((k) => process.env.EAL_STORES!.split(',').includes(k)) : STORE_KINDS;

function entry(at: string, overrides: Partial<AuditEntry>): AuditEntry {
  const statusCode = overrides.statusCode ?? 201;
  return {
    ...blankEntry(new ObjectId().toHexString(), new Date(`2026-03-01T${at}Z`)),
    method: 'POST',
    action: 'Create',
    endpoint: '/x',
    collectionName: 'users',
    user: 'alice',
    statusCode,
    isError: statusCode >= 400,
    ...overrides,
  };
}

const ENTRIES = [
  entry('09:59:59', { user: 'carol' }), // before `from`
  entry('10:05:00', {}),
  entry('10:20:00', { action: 'Update', method: 'PUT', statusCode: 200 }),
  entry('10:50:00', { action: 'Delete', method: 'DELETE', user: 'bob', collectionName: 'roles', statusCode: 404 }),
  entry('11:10:00', { user: null, statusCode: 500 }),
  entry('12:30:00', { user: 'bob', collectionName: 'roles' }),
  entry('13:00:00', { user: 'carol' }), // after `to`
];
const RANGE = 'from=2026-03-01T10:00:00Z&to=2026-03-01T12:59:59Z';

describe.each(kinds)('stats on the %s store', (kind) => {
  let opened: OpenedStore;
  let t: TestApp;

  beforeAll(async () => {
    opened = await openStore(kind);
    t = createTestApp({ store: opened.store, scope: 'admin' });
    await t.audit.flush();
    await opened.store.insertMany(ENTRIES);
  });
  afterAll(async () => {
    await t.audit.close();
    await opened.cleanup();
  });

  const stats = (query: string) => request(t.app).get(`/auditLog/stats?${query}`).set('Authorization', `Bearer ${ADMIN}`);

  test('counts per bucket, errors apart, every bucket of the range listed', async () => {
    const res = await stats(`${RANGE}&interval=1h`).expect(200);
    expect(res.body).toEqual({
      from: '2026-03-01T10:00:00.000Z',
      to: '2026-03-01T12:59:59.000Z',
      interval: '1h',
      intervalMs: 3_600_000,
      groupBy: null,
      count: 5,
      errors: 2,
      buckets: [
        { start: '2026-03-01T10:00:00.000Z', end: '2026-03-01T11:00:00.000Z', count: 3, errors: 1 },
        { start: '2026-03-01T11:00:00.000Z', end: '2026-03-01T12:00:00.000Z', count: 1, errors: 1 },
        { start: '2026-03-01T12:00:00.000Z', end: '2026-03-01T13:00:00.000Z', count: 1, errors: 0 },
      ],
      groups: [],
      groupsTotal: 0,
    });
  });

  test('empty buckets are zeros; buckets start on multiples of the interval', async () => {
    const res = await stats('from=2026-03-01T10:10:00Z&to=2026-03-01T11:40:00Z&interval=30m').expect(200);
    expect(res.body.buckets.map((b: { start: string; count: number }) => [b.start.slice(11, 16), b.count])).toEqual([
      ['10:00', 1], // 10:05 is before from: only 10:20
      ['10:30', 1],
      ['11:00', 1],
      ['11:30', 0],
    ]);
  });

  test('groupBy counts per value, most frequent first, ties by value, null for entries without it', async () => {
    const byAction = (await stats(`${RANGE}&groupBy=action`).expect(200)).body;
    expect(byAction.groups).toEqual([
      { key: 'Create', count: 3, errors: 1 },
      { key: 'Delete', count: 1, errors: 1 },
      { key: 'Update', count: 1, errors: 0 },
    ]);
    expect(byAction.groupsTotal).toBe(3);
    const byUser = (await stats(`${RANGE}&groupBy=user&top=2`).expect(200)).body;
    expect(byUser.groups).toEqual([
      { key: 'alice', count: 2, errors: 0 },
      { key: 'bob', count: 2, errors: 1 },
    ]);
    expect(byUser.groupsTotal).toBe(3);
    const byUserAll = (await stats(`${RANGE}&groupBy=user`).expect(200)).body;
    expect(byUserAll.groups).toContainEqual({ key: null, count: 1, errors: 1 });
    const byStatus = (await stats(`${RANGE}&groupBy=statusCode`).expect(200)).body;
    expect(byStatus.groups).toEqual([
      { key: 201, count: 2, errors: 0 },
      { key: 200, count: 1, errors: 0 },
      { key: 404, count: 1, errors: 1 },
      { key: 500, count: 1, errors: 1 },
    ]);
  });

  test("the list route's filters apply", async () => {
    const res = await stats(`${RANGE}&interval=1h&collectionName=roles&groupBy=collectionName`).expect(200);
    expect(res.body.buckets.map((b: { count: number }) => b.count)).toEqual([1, 0, 1]);
    expect(res.body.groups).toEqual([{ key: 'roles', count: 2, errors: 1 }]);
    const term = await stats(`${RANGE}&$term=ali&$searchFields=user`).expect(200);
    expect(term.body.count).toBe(2);
    const where = await stats(`${RANGE}&$where=${encodeURIComponent('{"statusCode":{"$gte":400}}')}`).expect(200);
    expect([where.body.count, where.body.errors]).toEqual([2, 2]);
  });

  test('an entry the app just recorded is counted (the queue is flushed first)', async () => {
    const created = await request(t.app).post('/users').set('Authorization', `Bearer ${USER}`).send({ name: 'x' }).expect(201);
    expect(created.body._id).toBeDefined();
    const res = await stats('from=1h&groupBy=user').expect(200);
    expect(res.body.groups).toEqual([{ key: 'user-1', count: 1, errors: 0 }]);
  });
});

describe('stats parameters and access', () => {
  let t: TestApp;
  beforeAll(() => {
    t = createTestApp({ store: memoryStore(), scope: 'admin' });
  });
  afterAll(() => t.audit.close());
  const stats = (query: string) => request(t.app).get(`/auditLog/stats?${query}`).set('Authorization', `Bearer ${ADMIN}`);

  test('the scope of the list route: 401 without auth, 403 without the scope', async () => {
    await request(t.app).get('/auditLog/stats').expect(401);
    await request(t.app).get('/auditLog/stats').set('Authorization', `Bearer ${USER}`).expect(403);
  });

  test('bad parameters are a 400 naming the parameter and what would work', async () => {
    const cases: Array<[string, string, RegExp]> = [
      ['interval=1x', 'interval', /like 15m, 1h or 1d/],
      ['interval=0h', 'interval', /whole number/],
      ['from=2026-01-01&to=2026-03-01&interval=1m', 'interval', /at most 1000 .*\(6h or more\)/],
      ['groupBy=actoin', 'groupBy', /one of action, user, collectionName, statusCode, method.*did you mean 'action'/i],
      ['top=0', 'top', /from 1 to 100/],
      ['intervall=1h', 'intervall', /did you mean 'interval'/i],
      ['$limit=5', '$limit', /unknown query parameter/],
      ['from=2026-03-02&to=2026-03-01', 'from', /after to/],
    ];
    for (const [query, parameter, message] of cases) {
      const res = await stats(query).expect(400);
      expect([res.body.parameter, res.body.message]).toEqual([parameter, expect.stringMatching(message)]);
    }
  });

  test('defaults: the last 24 hours, in at most 100 buckets (15m: 97 buckets)', async () => {
    const res = await stats('').expect(200);
    expect(Date.parse(res.body.to) - Date.parse(res.body.from)).toBe(24 * 3600_000);
    expect([res.body.interval, res.body.buckets.length]).toEqual(['15m', 97]);
    const week = await stats('from=7d').expect(200);
    expect([week.body.interval, week.body.buckets.length]).toEqual(['6h', 29]);
  });

  test('a store without stats(): 501, said plainly', async () => {
    const inner = memoryStore();
    const bare: AuditStore = {
      init: (c) => inner.init(c),
      insertMany: (e) => inner.insertMany(e),
      find: (q) => inner.find(q),
      count: (f) => inner.count(f),
      findById: (id) => inner.findById(id),
      close: () => inner.close(),
    };
    const custom = createTestApp({ store: bare, scope: 'admin' });
    const res = await request(custom.app).get('/auditLog/stats').set('Authorization', `Bearer ${ADMIN}`).expect(501);
    expect(res.body.message).toMatch(/no stats\(\) method/);
    await custom.audit.close();
  });
});

describe.each(kinds)('stats with tenants on the %s store', (kind) => {
  let opened: OpenedStore;
  let t: TestApp;
  const ACME = token({ sub: 'alice', scope: 'admin', org: 'acme' });
  const AUDITOR = token({ sub: 'carol', scope: 'admin auditor' });
  const NO_TENANT = token({ sub: 'dan', scope: 'admin' });

  beforeAll(async () => {
    opened = await openStore(kind);
    t = createTestApp({ store: opened.store, scope: 'admin', tenantScope: 'auditor', getTenant: (req) => (req as { auth?: { org?: string } }).auth?.org });
    await t.audit.flush();
    await opened.store.insertMany(ENTRIES.map((e, i) => ({ ...e, tenant: i % 2 === 0 ? 'acme' : 'globex' })));
  });
  afterAll(async () => {
    await t.audit.close();
    await opened.cleanup();
  });
  const stats = (bearer: string) => request(t.app).get(`/auditLog/stats?${RANGE}&groupBy=user`).set('Authorization', `Bearer ${bearer}`);

  test('a tenant counts its own entries only; tenantScope counts all; no tenant is a 403', async () => {
    // In range, acme's: 10:20 (alice, 200) and 11:10 (no user, 500). Ties go by value, null first.
    const acme = (await stats(ACME).expect(200)).body;
    expect([acme.count, acme.errors, acme.groupsTotal]).toEqual([2, 1, 2]);
    expect(acme.groups).toEqual([
      { key: null, count: 1, errors: 1 },
      { key: 'alice', count: 1, errors: 0 },
    ]);
    const all = (await stats(AUDITOR).expect(200)).body;
    expect([all.count, all.errors]).toEqual([5, 2]);
    await stats(NO_TENANT).expect(403);
  });
});

describe('stats with encryption', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = createTestApp({ store: memoryStore(), scope: 'admin', encryption: { masterKey: Buffer.alloc(32, 7) } });
    await request(t.app).post('/users').set('Authorization', `Bearer ${USER}`).send({ name: 'a' }).expect(201);
    await request(t.app).post('/users').set('Authorization', `Bearer ${ADMIN}`).send({ name: 'b' }).expect(201);
  });
  afterAll(() => t.audit.close());
  const stats = (query: string) => request(t.app).get(`/auditLog/stats?${query}`).set('Authorization', `Bearer ${ADMIN}`);

  test('?user= counts the user’s sealed entries (by their blind index), as the list route finds them', async () => {
    expect((await stats('from=1h&user=user-1').expect(200)).body.count).toBe(1);
    expect((await stats('from=1h').expect(200)).body.count).toBe(2);
  });

  test('groupBy on a sealed field is refused: sealed entries store it as null', async () => {
    const res = await stats('groupBy=user').expect(400);
    expect([res.body.parameter, res.body.message]).toEqual(['groupBy', expect.stringMatching(/user is sealed by the encryption option/)]);
    expect((await stats('from=1h&groupBy=action').expect(200)).body.groups).toEqual([{ key: 'Create', count: 2, errors: 0 }]);
  });
});
