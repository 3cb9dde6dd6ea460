/**
 * durability: 'journal' on Hapi, as on Express (test/pipeline/journal.test.ts): the entry is on
 * disk before any byte of the answer goes to the socket, so a process killed with SIGKILL at any
 * moment loses no entry of a request whose answer the client received, and a restart writes none
 * twice. Real child processes (test/support/instances, `framework: 'hapi'`), real HTTP over
 * 127.0.0.1, the SQLite file store (it outlives the processes); the kill points follow a fixed schedule.
 */
import fs from 'fs';
import path from 'path';
import type { ServerResponse } from 'http';
import Hapi from '@hapi/hapi';
import Boom from '@hapi/boom';
import { auditLogHapi, PLUGIN_NAME } from 'express-audit-log/hapi';
import { memoryStore, type AuditEntry } from 'express-audit-log';
import { killInstances, loadThenKill, startInstance } from '../support/instances/launcher';
import type { ChildSettings } from '../support/instances/child';
import { tempDirs } from '../pipeline/fakes';

const dir = tempDirs();
afterEach(killInstances);

function journalText(spoolDir: string): string {
  return fs
    .readdirSync(spoolDir)
    .filter((name) => name.startsWith('journal-'))
    .map((name) => fs.readFileSync(path.join(spoolDir, name), 'utf8'))
    .join('');
}

/** A Hapi server in journal mode whose handlers can see what the journal held when the first byte of their answer was written. */
async function journaledServer(spoolDir: string) {
  const store = memoryStore();
  const server = Hapi.server();
  await server.register({ plugin: auditLogHapi, options: { store, spoolDir, durability: 'journal', flushIntervalMs: 60_000, batchSize: 1000 } });
  const seen: string[] = [];
  /** Notes the journal's content when the response's first bytes (or its end) reach the raw response. */
  const watch = (res: ServerResponse) => {
    const write = res.write;
    const end = res.end;
    let noted = false;
    const note = () => {
      if (!noted) seen.push(journalText(spoolDir));
      noted = true;
    };
    res.write = function (this: ServerResponse, ...args: unknown[]) {
      note();
      return (write as (...a: unknown[]) => boolean).apply(this, args);
    } as typeof res.write;
    res.end = function (this: ServerResponse, ...args: unknown[]) {
      note();
      return (end as (...a: unknown[]) => ServerResponse).apply(this, args);
    } as typeof res.end;
  };
  server.route({
    method: 'POST',
    path: '/items/{id}',
    handler: (request, h) => {
      watch(request.raw.res);
      return h.response({ _id: request.params.id, ok: true }).code(201);
    },
  });
  server.route({
    method: 'DELETE',
    path: '/items/{id}',
    handler: (request) => {
      watch(request.raw.res);
      throw Boom.conflict('in use');
    },
  });
  server.route({
    method: 'PUT',
    path: '/items/{id}',
    handler: (request, h) => {
      watch(request.raw.res);
      return h.response().code(204);
    },
  });
  await server.initialize();
  return { server, store, seen, audit: server.plugins[PLUGIN_NAME] };
}

test("journal mode on Hapi: the entry is on disk before the answer's first byte is written, built from the final status, result and params", async () => {
  const spoolDir = path.join(dir(), 'spool');
  const { server, store, seen, audit } = await journaledServer(spoolDir);
  const created = await server.inject({ method: 'POST', url: '/items/abc', headers: { 'x-request-id': 'req-1' }, payload: { name: 'x' } });
  expect(created.statusCode).toBe(201);
  const refused = await server.inject({ method: 'DELETE', url: '/items/abc', headers: { 'x-request-id': 'req-2' } });
  expect(refused.statusCode).toBe(409);
  const empty = await server.inject({ method: 'PUT', url: '/items/abc', headers: { 'x-request-id': 'req-3' }, payload: { name: 'y' } });
  expect(empty.statusCode).toBe(204);
  expect(seen).toHaveLength(3);
  expect(seen[0]).toContain('"requestId":"req-1"');
  expect(seen[1]).toContain('"requestId":"req-2"');
  expect(seen[2]).toContain('"requestId":"req-3"');
  await audit.flush();
  const { docs } = await store.find({ filter: {}, sort: [['date', 1]], skip: 0, limit: 10, select: null });
  const [create, remove] = docs as AuditEntry[];
  expect(create).toMatchObject({ statusCode: 201, isError: false, result: { _id: 'abc', ok: true }, params: { id: 'abc' }, payload: { name: 'x' } });
  expect(create!.aborted).toBeUndefined();
  expect(remove).toMatchObject({ action: 'Delete', statusCode: 409, isError: true, responseMessage: 'in use' });
  expect(docs[2]).toMatchObject({ action: 'Update', statusCode: 204, isError: false, result: null });
  expect(docs).toHaveLength(3);
  await server.stop();
  // Confirmed, then closed: no journal, and no lock, left behind.
  expect(fs.readdirSync(spoolDir)).toEqual([]);
});

test('without the journal, the Hapi entry is built only once the response is done (what the test above tells apart)', async () => {
  const spoolDir = path.join(dir(), 'spool');
  const server = Hapi.server();
  await server.register({ plugin: auditLogHapi, options: { store: memoryStore(), spoolDir } });
  let pushedBeforeWrite: number | null = null;
  server.route({
    method: 'POST',
    path: '/items',
    handler: (request, h) => {
      const write = request.raw.res.write;
      request.raw.res.write = function (this: ServerResponse, ...args: unknown[]) {
        pushedBeforeWrite ??= server.plugins[PLUGIN_NAME].stats().recorded;
        return (write as (...a: unknown[]) => boolean).apply(this, args);
      } as typeof write;
      return h.response({ ok: true }).code(201);
    },
  });
  await server.initialize();
  expect((await server.inject({ method: 'POST', url: '/items', payload: {} })).statusCode).toBe(201);
  expect(pushedBeforeWrite).toBe(0);
  await server.stop();
});

test('journal mode on Hapi, SQLite file store: SIGKILL at scheduled points under load; after restarts every answered request is stored, none twice', async () => {
  const root = dir();
  const spoolDir = path.join(root, 'spool');
  const rounds: Array<{ killAfter: number; batchSize: number; flushIntervalMs: number }> = [
    { killAfter: 1, batchSize: 100, flushIntervalMs: 60_000 },
    { killAfter: 17, batchSize: 5, flushIntervalMs: 0 },
    { killAfter: 40, batchSize: 1, flushIntervalMs: 0 },
    { killAfter: 64, batchSize: 100, flushIntervalMs: 60_000 },
  ];
  const settings = (options: ChildSettings['options']): ChildSettings => ({
    framework: 'hapi',
    store: 'file',
    path: path.join(root, 'audit.db'),
    options: { spoolDir, durability: 'journal', ...options },
  });
  const answered: string[] = [];
  for (const [index, round] of rounds.entries()) {
    const instance = await startInstance(settings({ batchSize: round.batchSize, flushIntervalMs: round.flushIntervalMs }));
    answered.push(...(await loadThenKill(instance, `r${index}`, round.killAfter)).keys());
  }
  // The last round's answers were never written: only its journal holds them.
  const last = await startInstance(settings({}));
  const stats = await last.flush();
  const counts = new Map<string, number>();
  for (const { requestId } of await last.dump()) if (requestId) counts.set(requestId, (counts.get(requestId) ?? 0) + 1);
  await last.close();
  expect(answered.length).toBeGreaterThanOrEqual(rounds.reduce((sum, round) => sum + round.killAfter, 0));
  expect(answered.filter((id) => !counts.has(id))).toEqual([]);
  expect([...counts].filter(([, count]) => count > 1)).toEqual([]);
  expect(stats.replayed).toBeGreaterThan(0);
  expect(fs.readdirSync(spoolDir)).toEqual([]);
});
