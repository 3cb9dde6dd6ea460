/**
 * durability: 'journal': a process killed with SIGKILL at any moment loses no entry of a request
 * whose answer the client received, and a restart writes none twice. Real child processes
 * (test/support/instances), real HTTP over 127.0.0.1, the SQLite file store (it outlives the
 * processes); the kill points follow a fixed schedule.
 */
import fs from 'node:fs';
import path from 'node:path';
import express from 'express';
import request from 'supertest';
import { auditLog, memoryStore, type AuditEntry } from 'express-audit-log';
import { getJson, killInstances, loadThenKill, startInstance } from '../support/instances/launcher';
import type { ChildSettings } from '../support/instances/child';
import { startMongo, stopMongo, type MongoTarget } from '../support/mongo';
import { tempDirs } from './fakes';

const dir = tempDirs();
afterEach(killInstances);

/** How many entries the store holds for each request id. */
function countById(entries: Array<{ requestId: string | null }>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const { requestId } of entries) if (requestId) counts.set(requestId, (counts.get(requestId) ?? 0) + 1);
  return counts;
}

test("option checks: durability is 'memory' or 'journal', and the journal needs spoolDir", () => {
  expect(() => auditLog({ store: memoryStore(), durability: 'jornal' as 'journal' })).toThrow(
    /durability must be 'memory' or 'journal'; got "jornal"\. Did you mean 'journal'\?/,
  );
  expect(() => auditLog({ store: memoryStore(), durability: 'journal' })).toThrow(/durability: 'journal' keeps its journal in spoolDir.*set spoolDir too/);
  expect(auditLog({ store: memoryStore(), durability: 'memory' }).enabled).toBe(true);
});

function journalText(spoolDir: string): string {
  return fs
    .readdirSync(spoolDir)
    .filter((name) => name.startsWith('journal-'))
    .map((name) => fs.readFileSync(path.join(spoolDir, name), 'utf8'))
    .join('');
}

test('journal mode: the entry is on disk when res.end() returns, built from the status, result and params known then', async () => {
  const spoolDir = path.join(dir(), 'spool');
  const store = memoryStore();
  const audit = auditLog({ store, spoolDir, durability: 'journal', flushIntervalMs: 60_000 });
  const app = express();
  app.use(express.json());
  app.use(audit);
  let journaledAtEnd = '';
  app.post('/items/:id', (req, res) => {
    res.status(201).json({ _id: req.params.id, ok: true });
    // Synchronously after end(): the response is complete, the 'close' event has not fired yet.
    journaledAtEnd = journalText(spoolDir);
  });
  await request(app).post('/items/abc').set('x-request-id', 'req-1').send({ name: 'x' }).expect(201);
  expect(journaledAtEnd).toContain('"requestId":"req-1"');
  await audit.flush();
  const { docs } = await store.find({ filter: {}, sort: [['date', 1]], skip: 0, limit: 10, select: null });
  expect(docs).toHaveLength(1);
  const entry = docs[0] as AuditEntry;
  expect(entry).toMatchObject({ statusCode: 201, isError: false, result: { _id: 'abc', ok: true }, params: { id: 'abc' }, payload: { name: 'x' } });
  expect(entry.responseMessage).toBeNull();
  expect(entry.aborted).toBeUndefined();
  await audit.close();
  // Confirmed, then closed: no journal, and no lock, left behind.
  expect(fs.readdirSync(spoolDir)).toEqual([]);
});

test('journal mode: an entry that cannot be journaled is reported (EAUDIT_JOURNAL) and still written; the answer is unchanged', async () => {
  const spoolDir = path.join(dir(), 'spool');
  const store = memoryStore();
  const audit = auditLog({ store, spoolDir, durability: 'journal' });
  const codes: string[] = [];
  audit.on('error', (error) => codes.push(error.code));
  const app = express();
  app.use(express.json());
  app.use(audit);
  app.post('/items', (_req, res) => {
    res.status(201).json({ ok: true });
  });
  // The directory is gone after start: the journal cannot create its file.
  fs.rmSync(spoolDir, { recursive: true, force: true });
  const response = await request(app).post('/items').send({ name: 'x' }).expect(201);
  expect(response.body).toEqual({ ok: true });
  await audit.flush();
  expect(await store.count({})).toBe(1);
  expect(codes).toContain('EAUDIT_JOURNAL');
  await audit.close();
});

test('journal mode: files whose entries the store confirmed are deleted as the journal moves on', async () => {
  const spoolDir = path.join(dir(), 'spool');
  const store = memoryStore();
  const audit = auditLog({ store, spoolDir, durability: 'journal', maxFieldBytes: 64 * 1024 });
  const app = express();
  app.use(express.json({ limit: '1mb' }));
  app.use(audit);
  app.post('/items', (_req, res) => {
    res.status(204).end();
  });
  const blob = 'j'.repeat(16 * 1024);
  // About 1.6 MB of journal: several files' worth. Each request waits for the previous one's entry to be written.
  for (let i = 0; i < 100; i++) {
    await request(app).post('/items').send({ i, blob }).expect(204);
    await audit.flush();
  }
  expect((await store.count({})) as number).toBe(100);
  const files = fs.readdirSync(spoolDir).filter((name) => name.startsWith('journal-'));
  // Only the file being appended to is left: every sealed one was confirmed and deleted.
  expect(files).toHaveLength(1);
  await audit.close();
});

/** Rounds of load, each ended by SIGKILL, on one store and one spoolDir; then a clean start replays what is left and checks the store. */
async function killRounds(store: Omit<ChildSettings, 'options'>): Promise<void> {
  const spoolDir = path.join(dir(), 'spool');
  // Kill points, and writer settings that put the kill before any write, mid-batch, or between small batches.
  const rounds: Array<{ killAfter: number; batchSize: number; flushIntervalMs: number }> = [
    { killAfter: 1, batchSize: 100, flushIntervalMs: 60_000 },
    { killAfter: 9, batchSize: 100, flushIntervalMs: 60_000 },
    { killAfter: 23, batchSize: 5, flushIntervalMs: 0 },
    { killAfter: 40, batchSize: 1, flushIntervalMs: 0 },
    { killAfter: 64, batchSize: 10, flushIntervalMs: 2 },
    { killAfter: 101, batchSize: 100, flushIntervalMs: 60_000 },
  ];
  const settings = (options: ChildSettings['options']): ChildSettings => ({ ...store, options: { spoolDir, durability: 'journal', ...options } });
  const answered: string[] = [];
  for (const [index, round] of rounds.entries()) {
    const instance = await startInstance(settings({ batchSize: round.batchSize, flushIntervalMs: round.flushIntervalMs }));
    answered.push(...(await loadThenKill(instance, `r${index}`, round.killAfter)).keys());
  }
  // The last round's answers were never written: only its journal holds them.
  const last = await startInstance(settings({}));
  const stats = await last.flush();
  const stored = countById(await last.dump());
  await last.close();
  expect(answered.length).toBeGreaterThanOrEqual(rounds.reduce((sum, round) => sum + round.killAfter, 0));
  expect(answered.filter((id) => !stored.has(id))).toEqual([]);
  expect([...stored].filter(([, count]) => count > 1)).toEqual([]);
  expect(stats.replayed).toBeGreaterThan(0);
  // A clean close leaves no journal, no segment and no lock behind.
  expect(fs.readdirSync(spoolDir)).toEqual([]);
}

test('journal mode, SQLite file store: SIGKILL at scheduled points under load; after restarts every answered request is stored, none twice', async () => {
  await killRounds({ store: 'file', path: path.join(dir(), 'audit.db') });
});

describe('MongoDB (the in-project server, in this process: it outlives the killed ones)', () => {
  let mongo: MongoTarget;
  beforeAll(async () => {
    mongo = await startMongo();
  });
  afterAll(() => stopMongo(mongo));

  test('journal mode: SIGKILL at scheduled points under load; after restarts every answered request is stored, none twice', async () => {
    await killRounds({ store: 'mongo', uri: mongo.uri, dbName: mongo.dbName });
  });
});

test('the default mode makes no such promise: entries still queued when the process is killed are lost', async () => {
  const where = dir();
  const settings: ChildSettings = { store: 'file', path: path.join(where, 'audit.db'), options: { batchSize: 100, flushIntervalMs: 60_000 } };
  const answered = [...(await loadThenKill(await startInstance(settings), 'm', 20)).keys()];
  const last = await startInstance(settings);
  await last.flush();
  const stored = countById(await last.dump());
  await last.close();
  expect(answered.length).toBeGreaterThanOrEqual(20);
  expect(answered.filter((id) => stored.has(id))).toEqual([]);
});

test("journal mode with integrity: a process that replays a dead one's journal and dies before its next checkpoint leaves every chain verifiable", async () => {
  const where = dir();
  const spoolDir = path.join(where, 'spool');
  const file = path.join(where, 'audit.db');
  const options = { spoolDir, durability: 'journal' as const, integrity: true };
  // 1: its store never takes a write, so its chain's opening checkpoint is never stored; killed.
  const first = await startInstance({ store: 'down', options });
  const answered = [...(await loadThenKill(first, 'first', 10)).keys()];
  // 2: replays the first one's journal (those entries are stored now), takes more requests, and is killed long before a checkpoint is due.
  const second = await startInstance({ store: 'file', path: file, options });
  expect((await second.flush()).replayed).toBeGreaterThanOrEqual(answered.length);
  answered.push(...(await loadThenKill(second, 'second', 10)).keys());
  // 3: replays the second one's journal and closes, writing its checkpoints.
  const third = await startInstance({ store: 'file', path: file, options });
  await third.flush();
  await third.close();
  const checking = await startInstance({ store: 'file', path: file, options });
  const report = await getJson<{ ok: boolean; problems: unknown[]; unchained: number; checked: { entries: number } }>(checking.port, '/auditLog/verify');
  await checking.close();
  expect(report).toMatchObject({ ok: true, problems: [], unchained: 0 });
  expect(report.checked.entries).toBeGreaterThanOrEqual(answered.length);
});
