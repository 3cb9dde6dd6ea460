/**
 * Tenants (`getTenant`, `tenantScope`) through real HTTP on every store: entries of every kind
 * carry their tenant, and a tenant never sees, counts or finds another tenant's entries through
 * any route (list, $count, $term, $where, ?tenant=, by id, history, export, verify), while a
 * holder of tenantScope reads across tenants.
 */
import express from 'express';
import { expressjwt } from 'express-jwt';
import request from 'supertest';
import { auditLog, type AuditEntry, type AuditLogMiddleware, type AuditLogOptions } from 'express-audit-log';
import { SECRET, token } from '../support/app';
import { STORE_KINDS, openStore, type OpenedStore } from '../support/stores';
import { settle } from '../support/wait';

const kinds = process.env.EAL_STORES ? STORE_KINDS.filter((k) => process.env.EAL_STORES!.split(',').includes(k)) : STORE_KINDS;

const ACME = token({ sub: 'alice', scope: 'admin', org: 'acme' });
const GLOBEX = token({ sub: 'bob', scope: 'admin', org: 'globex' });
/** Reads across tenants: holds the tenantScope, and has no tenant of its own. */
const AUDITOR = token({ sub: 'carol', scope: 'admin auditor' });
/** Authenticated, with the route scope, but no tenant and no tenantScope. */
const NO_TENANT = token({ sub: 'dan', scope: 'admin' });

type Auth = Express.Request & { auth?: { org?: string } };

function tenantApp(options: AuditLogOptions): { app: express.Express; audit: AuditLogMiddleware } {
  const app = express();
  app.use(express.json());
  app.use(expressjwt({ secret: SECRET, algorithms: ['HS256'], credentialsRequired: false }));
  const audit = auditLog({
    scope: 'admin',
    tenantScope: 'auditor',
    holdScope: 'admin',
    getTenant: (req) => (req as Auth).auth?.org,
    ...options,
  });
  app.use(audit);
  app.post('/users', (req, res) => {
    res.status(201).json({ _id: req.body._id, name: req.body.name });
  });
  // A GET, so the recorder leaves it alone: its one entry is the record() call's.
  app.get('/login/:id', (req, res) => {
    audit.record(req, { action: 'Login', collectionName: 'users', documents: [req.params.id] });
    res.status(204).end();
  });
  return { app, audit };
}

const ACME_USER = 'aaaaaaaaaaaaaaaaaaaaaaa1';
const GLOBEX_USER = 'bbbbbbbbbbbbbbbbbbbbbbb2';

describe.each(kinds)('tenants on the %s store', (kind) => {
  let opened: OpenedStore;
  let t: ReturnType<typeof tenantApp>;
  let globexEntry: AuditEntry;

  const get = (path: string, bearer: string) => request(t.app).get(path).set('Authorization', `Bearer ${bearer}`);
  const docs = async (path: string, bearer: string): Promise<AuditEntry[]> => (await get(path, bearer).expect(200)).body.docs;
  const tenants = (entries: AuditEntry[]) => [...new Set(entries.map((entry) => entry.tenant))];

  beforeAll(async () => {
    opened = await openStore(kind);
    t = tenantApp({ store: opened.store, integrity: true });
    await request(t.app).post('/users').set('Authorization', `Bearer ${ACME}`).send({ _id: ACME_USER, name: 'acme user' }).expect(201);
    await request(t.app).get(`/login/${ACME_USER}`).set('Authorization', `Bearer ${ACME}`).expect(204);
    await request(t.app).post('/users').set('Authorization', `Bearer ${GLOBEX}`).send({ _id: GLOBEX_USER, name: 'globex user' }).expect(201);
    await request(t.app).get(`/login/${GLOBEX_USER}`).set('Authorization', `Bearer ${GLOBEX}`).expect(204);
    // Outside any request: a job working for globex.
    t.audit.runWithContext({ user: 'job:sync', tenant: 'globex' }, () => t.audit.record(null, { action: 'Sync', notes: 'globex only' }));
    await settle(t.audit, 5);
    const all = await docs('/auditLog?$limit=100', AUDITOR);
    globexEntry = all.find((entry) => entry.tenant === 'globex' && entry.action === 'Create')!;
  });
  afterAll(async () => {
    await t.audit.close();
    await opened.cleanup();
  });

  test('recorded requests, record() and runWithContext() entries carry their tenant; tenantScope reads them all and filters with ?tenant=', async () => {
    const all = await docs('/auditLog?$limit=100&$sort=date', AUDITOR);
    expect(all.map((entry) => [entry.action, entry.user, entry.tenant])).toEqual([
      ['Create', 'alice', 'acme'],
      ['Login', 'alice', 'acme'],
      ['Create', 'bob', 'globex'],
      ['Login', 'bob', 'globex'],
      ['Sync', 'job:sync', 'globex'],
    ]);
    expect(tenants(await docs('/auditLog?tenant=acme', AUDITOR))).toEqual(['acme']);
  });

  test('list and $count show a tenant its own entries only', async () => {
    const res = await get('/auditLog', ACME).expect(200);
    expect(tenants(res.body.docs)).toEqual(['acme']);
    expect(res.body.items.total).toBe(2);
    expect((await get('/auditLog?$count=true', ACME).expect(200)).body).toBe(2);
    expect((await get('/auditLog?$count=true', GLOBEX).expect(200)).body).toBe(3);
  });

  test('filters, $term and $where cannot reach another tenant: they narrow inside the caller’s tenant', async () => {
    expect((await get('/auditLog?tenant=globex&$count=true', ACME).expect(200)).body).toBe(0);
    expect((await get('/auditLog?user=bob&$count=true', ACME).expect(200)).body).toBe(0);
    expect((await get('/auditLog?$term=globex&$count=true', ACME).expect(200)).body).toBe(0);
    expect((await get('/auditLog?$term=bob&$count=true', ACME).expect(200)).body).toBe(0);
    const where = (filter: unknown) => `/auditLog?$count=true&$where=${encodeURIComponent(JSON.stringify(filter))}`;
    expect((await get(where({ tenant: 'globex' }), ACME).expect(200)).body).toBe(0);
    expect((await get(where({ $or: [{ tenant: 'globex' }, { tenant: { $ne: 'acme' } }, { user: 'bob' }] }), ACME).expect(200)).body).toBe(0);
    expect((await get(where({ tenant: { $exists: true } }), ACME).expect(200)).body).toBe(2);
  });

  test("another tenant's entry by id answers exactly what a missing id answers", async () => {
    const theirs = await get(`/auditLog/${globexEntry._id}`, ACME).expect(404);
    const missing = await get('/auditLog/0123456789abcdef01234567', ACME).expect(404);
    expect(theirs.body).toEqual(missing.body);
    expect((await get(`/auditLog/${globexEntry._id}`, GLOBEX).expect(200)).body._id).toBe(globexEntry._id);
    expect((await get(`/auditLog/${globexEntry._id}`, AUDITOR).expect(200)).body._id).toBe(globexEntry._id);
  });

  test("history lists only the caller's entries about a document", async () => {
    expect(await docs(`/auditLog/history/users/${GLOBEX_USER}`, ACME)).toEqual([]);
    expect(tenants(await docs(`/auditLog/history/users/${GLOBEX_USER}`, GLOBEX))).toEqual(['globex']);
    expect((await docs(`/auditLog/history/users/${ACME_USER}`, ACME)).map((entry) => entry.action).sort()).toEqual(['Create', 'Login']);
  });

  test("the export holds the caller's entries only, and no integrity lines that cover other tenants' entries", async () => {
    const res = await get('/auditLog/export', ACME)
      .buffer(true)
      .parse((r, cb) => {
        let text = '';
        r.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
        r.on('end', () => cb(null, text));
      });
    expect(res.status).toBe(200);
    const lines = (res.body as string)
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines.map((line) => line.tenant)).toEqual(['acme', 'acme']);
    expect(lines.some((line) => line.checkpoint || line.export || line.exported)).toBe(false);
    // The export is itself recorded, in the exporter's tenant.
    const exports = await docs('/auditLog?action=Export', AUDITOR);
    expect(exports.map((entry) => entry.tenant)).toEqual(['acme']);
  });

  test('verify is for callers reading across tenants: a chain interleaves every tenant', async () => {
    const denied = await get('/auditLog/verify', ACME).expect(403);
    expect(denied.body.message).toMatch(/tenantScope/);
    expect((await get('/auditLog/verify', AUDITOR).expect(200)).body).toEqual(expect.objectContaining({ ok: true }));
  });

  test('retention and legal holds concern every tenant: tenantScope only', async () => {
    const denied = await get('/auditLog/retention', ACME).expect(403);
    expect(denied.body.message).toContain('tenantScope');
    expect(JSON.stringify(denied.body)).not.toContain('globex');
    await get('/auditLog/holds', ACME).expect(403);
    await request(t.app)
      .post('/auditLog/holds')
      .set('Authorization', `Bearer ${ACME}`)
      .send({ filter: { user: 'bob' }, reason: 'x' })
      .expect(403);
    expect((await get('/auditLog/retention', AUDITOR).expect(200)).body).toBeDefined();
    expect(await get('/auditLog/holds', AUDITOR).expect(200)).toBeDefined();
  });

  test('manual entries take the poster’s tenant; the body cannot set one', async () => {
    const post = (body: unknown) =>
      request(t.app)
        .post('/auditLog')
        .set('Authorization', `Bearer ${ACME}`)
        .send(body as object);
    const refused = await post({ action: 'Note', tenant: 'globex' }).expect(400);
    expect(refused.body.parameter).toBe('tenant');
    const created = await post({ action: 'Note', notes: 'by hand' }).expect(201);
    expect(created.body.tenant).toBe('acme');
    expect((await get(`/auditLog/${created.body._id}`, GLOBEX).expect(404)).body.message).toBe('No audit entry was found with that id.');
  });

  test('a caller with no tenant and no tenantScope is refused (403) by every read route', async () => {
    for (const path of ['/auditLog', '/auditLog?$count=true', `/auditLog/${globexEntry._id}`, `/auditLog/history/users/${ACME_USER}`, '/auditLog/export']) {
      const res = await get(path, NO_TENANT).expect(403);
      expect(res.body.message).toMatch(/getTenant\(req\) returned none/);
      expect(JSON.stringify(res.body)).not.toMatch(/acme|globex/);
    }
  });
});

describe('tenants, whatever the store', () => {
  test('a throwing getTenant costs neither the response nor the entry: reported (EAUDIT_TENANT), stored without a tenant', async () => {
    const opened = await openStore('memory');
    const t = tenantApp({
      store: opened.store,
      getTenant: (req) => {
        if ((req as Auth).auth?.org === 'globex') throw new Error('tenant service down');
        return (req as Auth).auth?.org;
      },
    });
    const codes: string[] = [];
    t.audit.on('error', (error: { code: string }) => codes.push(error.code));
    try {
      await request(t.app).post('/users').set('Authorization', `Bearer ${GLOBEX}`).send({ name: 'x' }).expect(201);
      await settle(t.audit, 1);
      expect(codes).toContain('EAUDIT_TENANT');
      const all = await request(t.app).get('/auditLog').set('Authorization', `Bearer ${AUDITOR}`).expect(200);
      expect(all.body.docs.map((entry: AuditEntry) => [entry.user, entry.tenant])).toEqual([['bob', null]]);
      // The reader's getTenant fails too: a 500 that says so, not another tenant's view.
      expect((await request(t.app).get('/auditLog').set('Authorization', `Bearer ${GLOBEX}`).expect(500)).body.message).toMatch(/getTenant/);
    } finally {
      await t.audit.close();
      await opened.cleanup();
    }
  });

  test("an audited function called in a request records into the request's tenant", async () => {
    const opened = await openStore('memory');
    const t = tenantApp({ store: opened.store });
    const approve = t.audit.audited(async (id: string) => ({ id, approved: true }), { action: 'Approve', collectionName: 'invoices' });
    t.app.post('/approve/:id', async (req, res) => res.json(await approve(req.params.id as string)));
    try {
      await request(t.app).post('/approve/inv-1').set('Authorization', `Bearer ${GLOBEX}`).expect(200);
      await settle(t.audit, 2);
      const all = await request(t.app).get('/auditLog?action=Approve').set('Authorization', `Bearer ${AUDITOR}`).expect(200);
      expect(all.body.docs.map((entry: AuditEntry) => [entry.action, entry.user, entry.tenant])).toEqual([['Approve', 'bob', 'globex']]);
    } finally {
      await t.audit.close();
      await opened.cleanup();
    }
  });

  test('without getTenant, entries have no tenant field at all', async () => {
    const opened = await openStore('memory');
    const app = express();
    app.use(expressjwt({ secret: SECRET, algorithms: ['HS256'], credentialsRequired: false }));
    const audit = auditLog({ store: opened.store, scope: 'admin' });
    app.use(audit);
    app.post('/x', (_req, res) => res.status(201).json({}));
    try {
      await request(app).post('/x').expect(201);
      await settle(audit, 1);
      const res = await request(app).get('/auditLog').set('Authorization', `Bearer ${ACME}`).expect(200);
      expect(res.body.docs).toHaveLength(1);
      expect(res.body.docs[0]).not.toHaveProperty('tenant');
    } finally {
      await audit.close();
      await opened.cleanup();
    }
  });
});
