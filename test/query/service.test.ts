/**
 * The query service with no web framework: plain caller facts and parameters in, `{ status, body,
 * headers }` out. What a Fastify or Hapi adapter's routes will call; the Express routes already do
 * (test/e2e/query-routes.test.ts and the other route tests go through them).
 */
import { memoryStore } from 'express-audit-log';
import { createAuditCore, type EnabledAuditCore } from '../../src/core/audit-core';
import type { AuditContext, EventSink } from '../../src/events/context';
import { createQueryService, type CallerAuth, type QueryCaller } from '../../src/query/service';

function contextOf(_req: unknown, sink: EventSink): AuditContext {
  return { sink, user: null, requestId: 'r', traceId: null, ipAddress: null, userAgent: null, tenant: null, req: null, changes: null, changesDropped: 0 };
}

function caller(auth: CallerAuth | null, tenant: string | null = null): QueryCaller {
  return {
    method: 'GET',
    path: '/auditLog',
    headers: {},
    ip: '127.0.0.1',
    req: null,
    auth: () => auth,
    tenant: () => tenant,
    user: () => (auth ? String(auth.user) : null),
  };
}

async function setUp(options: Record<string, unknown> = {}) {
  const core = createAuditCore({ store: memoryStore(), scope: ['admin'], ...options }, { contextOf }) as EnabledAuditCore;
  const service = createQueryService({
    config: core.config,
    store: core.store,
    sink: core.sink,
    fail: core.report,
    flushPending: core.flushPending,
    write: core.write,
    governance: core.governance,
    reads: core.reads,
    contextOf: (c) => core.sink.contextOf(c.req),
    missingAuth: 'no token',
  });
  return { core, service };
}

describe('query service', () => {
  it('refuses without auth (401 with a Bearer challenge) and without the scope (403)', async () => {
    const { core, service } = await setUp();
    expect(service.authorize(caller(null))).toEqual({
      status: 401,
      body: { statusCode: 401, error: 'Unauthorized', message: 'Authentication required: sign in the way the app accepts (no token).' },
      headers: { 'WWW-Authenticate': 'Bearer' },
    });
    expect(service.authorize(caller({ user: 'u', scopes: ['user'] }))?.status).toBe(403);
    expect(service.authorize(caller({ user: 'u', scopes: ['admin'] }))).toBeNull();
    await core.close();
  });

  it('lists, gets by id and counts what the store holds, in the list shape of the routes', async () => {
    const { core, service } = await setUp();
    const admin = caller({ user: 'ann', scopes: ['admin'] });
    const created = await service.manualEntries(admin, { action: 'Login', collectionName: 'users' });
    expect(created.status).toBe(201);
    const id = (created.body as { _id: string })._id;
    const listed = await service.list(admin, { action: 'Login' });
    expect(listed).toMatchObject({ status: 200, body: { docs: [{ _id: id, action: 'Login', user: 'ann' }], items: { total: 1 } } });
    expect(await service.getById(admin, id, { $select: ['action'] })).toEqual({ status: 200, body: { _id: id, action: 'Login' } });
    expect((await service.getById(admin, 'f'.repeat(24), {})).status).toBe(404);
    expect(await service.list(admin, { $count: 'true' })).toEqual({ status: 200, body: 1 });
    await expect(service.list(admin, { nope: '1' })).rejects.toMatchObject({ parameter: 'nope' });
    await core.close();
  });

  it("shows a tenant's caller only its tenant's entries; another tenant's entry is a 404", async () => {
    const { core, service } = await setUp({ getTenant: () => 'a', tenantScope: ['auditor'] });
    const inA = await service.manualEntries(caller({ user: 'x', scopes: ['admin'] }, 'a'), { action: 'Login' });
    const id = (inA.body as { _id: string })._id;
    const fromB = caller({ user: 'y', scopes: ['admin'] }, 'b');
    expect((await service.getById(fromB, id, {})).status).toBe(404);
    expect((await service.list(fromB, {})).body).toMatchObject({ items: { total: 0 } });
    expect((await service.list(caller({ user: 'z', scopes: ['admin', 'auditor'] }, 'b'), {})).body).toMatchObject({ items: { total: 1 } });
    await core.close();
  });
});
