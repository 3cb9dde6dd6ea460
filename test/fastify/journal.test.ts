/**
 * durability: 'journal' on Fastify: a process killed with SIGKILL right after its clients got
 * their answers loses no entry of an answered request, and the process that replays its journal
 * writes none twice. As test/pipeline/journal.test.ts does for Express: real child processes
 * (test/support/instances, `framework: 'fastify'`, against the built package), real HTTP over
 * 127.0.0.1, the SQLite file store; the kill points follow a fixed schedule. Both ways the recorder
 * takes an answer are loaded: `/items` (the route-level onSend) and `/early` (declared before the
 * plugin: `res.end`).
 */
import fs from 'node:fs';
import path from 'node:path';
import { tempDirs } from '../pipeline/fakes';
import type { ChildSettings, DumpedEntry } from '../support/instances/child';
import { killInstances, loadThenKill, startInstance } from '../support/instances/launcher';

const dir = tempDirs();
afterEach(killInstances);

test('journal mode on Fastify: SIGKILL at scheduled points under load; after restarts every answered request is stored once, as answered', async () => {
  const where = dir();
  const spoolDir = path.join(where, 'spool');
  const settings = (options: ChildSettings['options']): ChildSettings => ({
    framework: 'fastify',
    store: 'file',
    path: path.join(where, 'audit.db'),
    options: { spoolDir, durability: 'journal', ...options },
  });
  // Kill points, and writer settings that put the kill before any write, mid-batch, or between small batches.
  const rounds = [
    { killAfter: 1, batchSize: 100, flushIntervalMs: 60_000 },
    { killAfter: 12, batchSize: 100, flushIntervalMs: 60_000 },
    { killAfter: 30, batchSize: 5, flushIntervalMs: 0 },
    { killAfter: 45, batchSize: 1, flushIntervalMs: 0 },
    { killAfter: 80, batchSize: 100, flushIntervalMs: 60_000 },
  ];
  const answered = new Map<string, string>();
  for (const [index, round] of rounds.entries()) {
    const instance = await startInstance(settings({ batchSize: round.batchSize, flushIntervalMs: round.flushIntervalMs }));
    for (const [id, route] of await loadThenKill(instance, `r${index}`, round.killAfter, { routes: ['/items', '/early'] })) answered.set(id, route);
  }
  // The last round's answers were never written: only its journal holds them.
  const last = await startInstance(settings({}));
  const stats = await last.flush();
  const stored = await last.dump();
  await last.close();

  expect(answered.size).toBeGreaterThanOrEqual(rounds.reduce((sum, round) => sum + round.killAfter, 0));
  const byId = new Map<string, DumpedEntry[]>();
  for (const entry of stored) if (entry.requestId) byId.set(entry.requestId, [...(byId.get(entry.requestId) ?? []), entry]);
  expect([...answered.keys()].filter((id) => !byId.has(id))).toEqual([]);
  expect([...byId].filter(([, entries]) => entries.length > 1).map(([id]) => id)).toEqual([]);
  // Built from the answer the client got, on both routes.
  const wrong = [...answered].filter(([id, route]) => {
    const entry = byId.get(id)?.[0];
    const result = entry?.result as { name?: string } | undefined;
    return entry?.endpoint !== route || entry.statusCode !== 201 || result?.name !== id;
  });
  expect(wrong).toEqual([]);
  expect([...answered.values()].filter((route) => route === '/early').length).toBeGreaterThan(20);
  expect(stats.replayed).toBeGreaterThan(0);
  // A clean close leaves no journal, no segment and no lock behind.
  expect(fs.readdirSync(spoolDir)).toEqual([]);
});
