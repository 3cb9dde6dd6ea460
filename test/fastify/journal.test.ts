/**
 * durability: 'journal' on Fastify: a process killed with SIGKILL right after its clients got
 * their answers loses no entry of an answered request, and the process that replays its journal
 * writes none twice. As test/pipeline/journal.test.ts does for Express: real child processes
 * (journal-child.ts, against the built package), real HTTP over 127.0.0.1, the SQLite file store;
 * the kill points follow a fixed schedule. Both ways the recorder takes an answer are loaded:
 * `/items` (the route-level onSend) and `/early` (declared before the plugin: `res.end`).
 */
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import ts from 'typescript';
import type { AuditLogStats } from 'express-audit-log/fastify';
import { tempDirs } from '../pipeline/fakes';
import type { FastifyChildRequest, FastifyChildSettings } from './journal-child';

const ROOT = path.join(__dirname, '..', '..');
const DIST = path.join(ROOT, 'dist', 'fastify', 'index.js');
const LANES = 8;
const dir = tempDirs();
const running = new Set<ChildProcess>();

afterEach(async () => {
  await Promise.all(
    [...running].map(
      (child) =>
        new Promise<void>((resolve) => {
          child.once('exit', () => resolve());
          child.kill('SIGKILL');
        }),
    ),
  );
});

interface Dumped {
  requestId: string | null;
  endpoint: string;
  statusCode: number | null;
  result: unknown;
}

interface Instance {
  child: ChildProcess;
  port: number;
  exited: Promise<NodeJS.Signals | null>;
  ask<T>(cmd: FastifyChildRequest['cmd']): Promise<T>;
}

let compiled: string | null = null;

function childScript(): string {
  if (compiled) return compiled;
  if (!fs.existsSync(DIST)) throw new Error(`${DIST} is missing: run npm run build first`);
  const { outputText } = ts.transpileModule(fs.readFileSync(path.join(__dirname, 'journal-child.ts'), 'utf8'), {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
  });
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'eal-fastify-child-')), 'child.js');
  fs.writeFileSync(file, outputText);
  compiled = file;
  return file;
}

async function start(settings: FastifyChildSettings): Promise<Instance> {
  const child = fork(childScript(), [], {
    env: { ...process.env, EAL_DIST: DIST, EAL_CHILD: JSON.stringify(settings), NODE_PATH: path.join(ROOT, 'node_modules') },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  running.add(child);
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.on('exit', (_code, signal) => {
      running.delete(child);
      resolve(signal);
    }),
  );
  const waiting = new Map<number, (reply: unknown) => void>();
  const port = await new Promise<number>((resolve, reject) => {
    child.on('message', (message: { port?: number; id?: number; reply?: unknown }) => {
      if (typeof message.port === 'number') resolve(message.port);
      else if (typeof message.id === 'number') waiting.get(message.id)?.(message.reply);
    });
    void exited.then(() => reject(new Error('the instance exited before it listened')));
  });
  let nextId = 0;
  const ask = <T>(cmd: FastifyChildRequest['cmd']): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const id = ++nextId;
      waiting.set(id, (reply) => resolve(reply as T));
      void exited.then(() => reject(new Error(`the instance exited before answering ${cmd}`)));
      child.send({ id, cmd } satisfies FastifyChildRequest);
    });
  return { child, port, exited, ask };
}

/** POST `route` with this request id; resolves with the status once the whole answer arrived. */
function post(port: number, route: string, requestId: string): Promise<number> {
  const data = JSON.stringify({ name: requestId });
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: route,
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data), 'x-request-id': requestId },
      },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(data);
  });
}

/**
 * Sends requests on LANES connections at once, alternating the two routes, and kills the instance
 * with SIGKILL right after the `killAfter`-th answer arrived, while others are in flight. Returns
 * the request ids whose whole answer (201) arrived, with the route each went to.
 */
async function loadThenKill(instance: Instance, prefix: string, killAfter: number): Promise<Map<string, string>> {
  const answered = new Map<string, string>();
  let sent = 0;
  let killed = false;
  const lane = async () => {
    while (!killed) {
      const n = sent++;
      const requestId = `${prefix}-${n}`;
      const route = n % 2 === 0 ? '/items' : '/early';
      try {
        if ((await post(instance.port, route, requestId)) === 201) answered.set(requestId, route);
      } catch {
        // cut by the kill: the client got no answer, so nothing is promised for it
      }
      if (!killed && answered.size >= killAfter) {
        killed = true;
        instance.child.kill('SIGKILL');
      }
    }
  };
  await Promise.all(Array.from({ length: LANES }, lane));
  expect(await instance.exited).toBe('SIGKILL');
  return answered;
}

test('journal mode on Fastify: SIGKILL at scheduled points under load; after restarts every answered request is stored once, as answered', async () => {
  const where = dir();
  const base = { path: path.join(where, 'audit.db'), spoolDir: path.join(where, 'spool') };
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
    const instance = await start({ ...base, batchSize: round.batchSize, flushIntervalMs: round.flushIntervalMs });
    for (const [id, route] of await loadThenKill(instance, `r${index}`, round.killAfter)) answered.set(id, route);
  }
  // The last round's answers were never written: only its journal holds them.
  const last = await start(base);
  const stats = await last.ask<AuditLogStats>('flush');
  const stored = await last.ask<Dumped[]>('dump');
  await last.ask('close');
  await last.exited;

  expect(answered.size).toBeGreaterThanOrEqual(rounds.reduce((sum, round) => sum + round.killAfter, 0));
  const byId = new Map<string, Dumped[]>();
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
  expect(fs.readdirSync(base.spoolDir)).toEqual([]);
});
