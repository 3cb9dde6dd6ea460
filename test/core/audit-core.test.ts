/**
 * The framework-free core on its own, as a Fastify or Hapi adapter will use it: no Express, no
 * HTTP. Entries it is given reach the store through the same writer, with the same identity.
 */
import { memoryStore, type AuditEntry } from 'express-audit-log';
import { createAuditCore, type EnabledAuditCore } from '../../src/core/audit-core';
import type { AuditContext, EventSink } from '../../src/events/context';

interface FakeRequest {
  headers: Record<string, string>;
  who: string;
}

function contextOf(req: unknown, sink: EventSink): AuditContext {
  const request = req as FakeRequest;
  return {
    sink,
    user: request.who,
    requestId: 'req-1',
    traceId: null,
    ipAddress: '127.0.0.1',
    userAgent: null,
    tenant: null,
    req,
    changes: null,
    changesDropped: 0,
  };
}

function enabled(options: Parameters<typeof createAuditCore<FakeRequest>>[0]): EnabledAuditCore {
  const core = createAuditCore<FakeRequest>(options, { contextOf });
  if (!core.enabled) throw new Error('expected an enabled core');
  return core;
}

describe('createAuditCore', () => {
  it('records an event from a request of any framework, through the adapter context, and writes it on flush', async () => {
    const store = memoryStore();
    const core = enabled({ store, transform: (entry, req) => ({ ...entry, notes: req ? `seen by ${req.who}` : null }) });
    const id = core.emit(core.sink.contextOf({ headers: {}, who: 'alice' }), { action: 'Login', collectionName: 'users' });
    await core.flush();
    const { docs } = await store.find({ filter: {}, sort: [['date', -1]], skip: 0, limit: 10, select: null });
    expect(docs.map((doc: Partial<AuditEntry>) => [doc._id, doc.action, doc.user, doc.requestId, doc.notes])).toEqual([
      [id, 'Login', 'alice', 'req-1', 'seen by alice'],
    ]);
    expect(core.stats()).toMatchObject({ recorded: 1, written: 1 });
    await core.close();
  });

  it('opens nothing when disabled, and its lifecycle still answers', async () => {
    const core = createAuditCore({ enabled: false, store: memoryStore() }, { contextOf });
    expect(core.enabled).toBe(false);
    expect(core.store).toBeNull();
    expect(core.stats()).toMatchObject({ recorded: 0, written: 0 });
    await expect(core.close()).resolves.toBeUndefined();
  });

  it('rejects bad options at once, as auditLog() does', () => {
    expect(() => createAuditCore({ ttl: 'soon' }, { contextOf })).toThrow(/ttl/);
  });
});
