/**
 * One end-to-end suite for every framework: the same requests give the same entries and the same
 * route answers, literally (expected.ts), on Express, Fastify and, once its driver exists, Hapi.
 * Each driver (driver.ts) builds the same app; this file only speaks HTTP and the audit handle.
 */
import * as fs from 'fs';
import * as path from 'path';
import request from 'supertest';
import { memoryStore } from 'express-audit-log';
import type { ContractApp, FrameworkDriver } from './driver';
import { expressDriver } from './express-driver';
import { fastifyDriver } from './fastify-driver';
import * as expected from './expected';
import { ADMIN, USER, answer, entriesOf, normalise, recordScenario, SCENARIO_IDS } from './scenario';

/** The drivers that exist: hapi-driver.ts is written beside this one (export `hapiDriver` or a default). */
function drivers(): FrameworkDriver[] {
  const found: FrameworkDriver[] = [expressDriver, fastifyDriver];
  if (fs.existsSync(path.join(__dirname, 'hapi-driver.ts'))) {
    const hapi = require('./hapi-driver') as { hapiDriver?: FrameworkDriver; default?: FrameworkDriver };
    const driver = hapi.hapiDriver ?? hapi.default;
    if (driver) found.push(driver);
  }
  return found;
}

describe.each(drivers())('the contract on $name', (driver) => {
  let app: ContractApp;
  let userId: string;
  const admin = { Authorization: `Bearer ${ADMIN}` };

  beforeAll(async () => {
    app = await driver.start({ store: memoryStore(), ttl: '1d', scope: ['admin'] });
    ({ userId } = await recordScenario(app));
  });
  afterAll(async () => {
    await app.close();
  });

  it.each(SCENARIO_IDS.map((id) => [id]))('records %s as every framework does', async (id) => {
    expect(normalise(await entriesOf(app, id))).toEqual(expected.ENTRIES[id]);
  });

  it('names the created document by its id, and ties its entries together in its history', async () => {
    const [created] = await entriesOf(app, 'create-1');
    expect(created?.documents).toEqual([userId]);
    expect(await answer(request(app.url).get(`/auditLog/history/users/${userId}?$sort=date&$select=action,requestId`).set(admin))).toEqual(expected.HISTORY);
  });

  it('lists with filters, sorting, paging and $select, and counts', async () => {
    const agent = request(app.url);
    expect(await answer(agent.get('/auditLog?action=Update&$sort=statusCode').set(admin))).toEqual(expected.LIST);
    expect(await answer(agent.get('/auditLog?$limit=2&$page=2&$sort=requestId&$select=requestId,action').set(admin))).toEqual(expected.PAGE);
    expect(await answer(agent.get('/auditLog?$count=true&isError=true').set(admin))).toEqual(expected.COUNT);
  });

  it('answers one entry by id, and 404 for an unknown one', async () => {
    const [updated] = await entriesOf(app, 'update-1');
    const byId = await answer(request(app.url).get(`/auditLog/${updated?._id}`).set(admin));
    expect(byId).toEqual({ ...expected.LIST, body: expected.LIST.body.docs[0] });
    expect(await answer(request(app.url).get('/auditLog/0123456789abcdef01234567').set(admin))).toEqual(expected.MISSING);
  });

  it('refuses: 400 naming the parameter, 401 without a token, 403 without the scope, 405 on writes', async () => {
    const agent = request(app.url);
    expect(await answer(agent.get('/auditLog?$limit=abc').set(admin))).toEqual(expected.BAD);
    const anonymous = await answer(agent.get('/auditLog'));
    // The message names where the framework keeps auth (req.auth, request.user, …): the rest is the same.
    expect(anonymous).toEqual({
      status: 401,
      type: 'application/json',
      body: { statusCode: 401, error: 'Unauthorized', message: expect.stringMatching(/^Authentication required: /) },
    });
    expect(await answer(agent.get('/auditLog').set({ Authorization: `Bearer ${USER}` }))).toEqual(expected.USER);
    expect(await answer(agent.put('/auditLog').set(admin).send({}))).toEqual(expected.PUT);
  });

  it('exports NDJSON, and records the export', async () => {
    expect(await answer(request(app.url).get('/auditLog/export?format=ndjson&action=Delete').set(admin))).toEqual(expected.EXPORT);
    await app.audit.flush();
    const exports = await app.audit.store?.find({ filter: { action: 'Export' }, sort: [['date', 1]], skip: 0, limit: 10, select: null });
    expect(exports?.docs.map((doc) => [doc.user, doc.result])).toEqual([['admin-1', { rows: 1, format: 'ndjson', capped: false }]]);
  });

  it('answers stats, the OpenAPI document and the admin page', async () => {
    const agent = request(app.url);
    const stats = await answer(agent.get('/auditLog/stats?groupBy=action&collectionName=users').set(admin));
    const { buckets, ...summary } = stats.body as { buckets: Array<{ count: number }> };
    expect({ ...stats, body: summary }).toEqual({ status: 200, type: 'application/json', body: expected.STATS_WITHOUT_BUCKETS });
    expect(buckets.reduce((sum, bucket) => sum + bucket.count, 0)).toBe(6);
    const openapi = await answer(agent.get('/auditLog/openapi.json').set(admin));
    expect([openapi.status, Object.keys((openapi.body as { paths: object }).paths)]).toEqual([200, expected.OPENAPI_PATHS]);
    const ui = await request(app.url).get('/auditLog/ui');
    expect([ui.status, ui.headers['content-type'], ui.text.includes('<meta name="audit-base-path" content="/auditLog">')]).toEqual([
      200,
      'text/html; charset=utf-8',
      true,
    ]);
    expect(ui.headers['content-security-policy']).toMatch(/^default-src 'none'/);
  });

  it('takes manual entries, and never records its own routes', async () => {
    expect(await answer(request(app.url).post('/auditLog').set(admin).send({ action: 'Approve', collectionName: 'users' }))).toEqual(expected.MANUAL);
    await app.audit.flush();
    const own = await app.audit.store?.find({ filter: { endpoint: { $regex: '^/auditLog' } }, sort: [['date', 1]], skip: 0, limit: 10, select: null });
    expect(own?.docs).toEqual([]);
  });
});
