/**
 * Starts child.ts in its own process (plain node, the built package) and talks to it: HTTP over
 * 127.0.0.1 for recorded requests, IPC for flush/stats/dump/close. The tests need `npm run
 * build` first (npm test runs it).
 */
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import ts from 'typescript';
import type { AuditStats } from 'express-audit-log';
import type { ChildRequest, ChildSettings, DumpedEntry } from './child';

const ROOT = path.join(__dirname, '..', '..', '..');
const DIST = path.join(ROOT, 'dist', 'index.js');
let compiled: string | null = null;
/** Every child not yet gone: a failed test must not leave processes that keep jest from exiting. */
const running = new Set<ChildProcess>();

/** For afterEach: SIGKILLs the children a test left running. */
export async function killInstances(): Promise<void> {
  const left = [...running];
  await Promise.all(
    left.map(
      (child) =>
        new Promise<void>((resolve) => {
          child.once('exit', () => resolve());
          child.kill('SIGKILL');
        }),
    ),
  );
}

function childScript(): string {
  if (compiled) return compiled;
  if (!fs.existsSync(DIST)) throw new Error(`${DIST} is missing: run npm run build first`);
  const { outputText } = ts.transpileModule(fs.readFileSync(path.join(__dirname, 'child.ts'), 'utf8'), {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
  });
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'eal-child-')), 'child.js');
  fs.writeFileSync(file, outputText);
  compiled = file;
  return file;
}

export interface Instance {
  child: ChildProcess;
  port: number;
  /** Resolves when the process is gone, with its signal when it was killed. */
  exited: Promise<NodeJS.Signals | null>;
  flush(): Promise<AuditStats>;
  stats(): Promise<AuditStats>;
  dump(): Promise<DumpedEntry[]>;
  close(): Promise<AuditStats>;
  /** SIGKILL: no close(), no flush, nothing written after this instant. */
  kill(): Promise<void>;
}

export async function startInstance(settings: ChildSettings): Promise<Instance> {
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
  let nextId = 0;
  const port = await new Promise<number>((resolve, reject) => {
    child.on('message', (message: { port?: number; id?: number; reply?: unknown }) => {
      if (typeof message.port === 'number') resolve(message.port);
      else if (typeof message.id === 'number') waiting.get(message.id)?.(message.reply);
    });
    void exited.then(() => reject(new Error('the instance exited before it listened')));
  });
  const ask = <T>(cmd: ChildRequest['cmd']): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const id = ++nextId;
      waiting.set(id, (reply) => resolve(reply as T));
      void exited.then(() => reject(new Error(`the instance exited before answering ${cmd}`)));
      child.send({ id, cmd } satisfies ChildRequest);
    });
  return {
    child,
    port,
    exited,
    flush: () => ask('flush'),
    stats: () => ask('stats'),
    dump: () => ask('dump'),
    close: async () => {
      const stats = await ask<AuditStats>('close');
      await exited;
      return stats;
    },
    kill: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** A recorded request: POST `route` with this request id; resolves with the status once the whole answer arrived. */
export function post(port: number, requestId: string, body: object = { name: requestId }, route = '/items'): Promise<number> {
  const data = JSON.stringify(body);
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

/** GET a JSON route of an instance (the audit log's list route, say). */
export function getJson<T>(port: number, route: string): Promise<T> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: route, agent: false }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          try {
            resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as T);
          } catch (error) {
            reject(error);
          }
        });
      })
      .on('error', reject);
  });
}

/**
 * Sends requests on `lanes` connections at once, taking `routes` in turn, and kills the instance
 * with SIGKILL right after the `killAfter`-th answer arrived, while other requests are in flight.
 * Returns the request ids whose whole answer (201) arrived, those that arrived after the kill
 * signal included, each with the route it went to.
 */
export async function loadThenKill(
  instance: Instance,
  prefix: string,
  killAfter: number,
  { routes = ['/items'], lanes = 8 }: { routes?: string[]; lanes?: number } = {},
): Promise<Map<string, string>> {
  const answered = new Map<string, string>();
  let sent = 0;
  let killed = false;
  const lane = async () => {
    while (!killed) {
      const n = sent++;
      const requestId = `${prefix}-${n}`;
      const route = routes[n % routes.length]!;
      try {
        if ((await post(instance.port, requestId, { name: requestId }, route)) === 201) answered.set(requestId, route);
      } catch {
        // cut by the kill: the client got no answer, so nothing is promised for it
      }
      if (!killed && answered.size >= killAfter) {
        killed = true;
        instance.child.kill('SIGKILL');
      }
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  const exit = await instance.exited;
  if (exit !== 'SIGKILL') throw new Error(`the instance was to die of the SIGKILL sent after ${killAfter} answers; it ended with ${String(exit)}`);
  return answered;
}
