/**
 * A Fastify app with `durability: 'journal'`, in its own process, for the kill test
 * (journal.test.ts). Run as plain JavaScript against the built package (EAL_DIST), as
 * test/support/instances/child.ts is for Express. Two recorded routes: `/items`, declared after
 * the plugin (the recorder's route-level onSend), and `/early`, declared before it (the payload
 * taken where Node writes it). It listens on 127.0.0.1, sends `{ port }` to the parent, then
 * answers IPC requests: flush, dump (what its store holds), close.
 */
import type { FastifyInstance } from 'fastify';

export interface FastifyChildSettings {
  /** The SQLite file: it outlives the processes. */
  path: string;
  spoolDir: string;
  batchSize?: number;
  flushIntervalMs?: number;
}

export type FastifyChildRequest = { id: number; cmd: 'flush' | 'dump' | 'close' };

// eslint-disable-next-line @typescript-eslint/no-require-imports
const pkg = require(process.env.EAL_DIST as string) as typeof import('express-audit-log/fastify');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const Fastify = require('fastify') as () => FastifyInstance;

async function main(): Promise<void> {
  const settings = JSON.parse(process.env.EAL_CHILD as string) as FastifyChildSettings;
  const store = pkg.fileStore({ path: settings.path });
  const app = Fastify();
  let next = 0;
  const created = async (request: { body: unknown }, reply: { code(status: number): unknown }) => {
    reply.code(201);
    return { _id: `${process.pid}-${++next}`, ...(request.body as object) };
  };
  app.post('/early', created);
  await app.register(pkg.auditLogFastify, {
    store,
    durability: 'journal',
    spoolDir: settings.spoolDir,
    batchSize: settings.batchSize,
    flushIntervalMs: settings.flushIntervalMs,
  });
  app.auditLog.on('error', () => undefined);
  app.post('/items', created);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  process.send!({ port: typeof address === 'object' && address ? address.port : 0 });
  process.on('message', async (message: FastifyChildRequest) => {
    let reply: unknown;
    if (message.cmd === 'flush') {
      await app.auditLog.flush();
      reply = app.auditLog.stats();
    } else if (message.cmd === 'dump') {
      const { docs } = await store.find({ filter: {}, sort: [['date', 1]], skip: 0, limit: 1_000_000, select: null });
      reply = docs.map((doc) => ({ requestId: doc.requestId ?? null, endpoint: doc.endpoint, statusCode: doc.statusCode ?? null, result: doc.result }));
    } else {
      // Closing Fastify closes the audit log: it flushes, then closes the store.
      await app.close();
      reply = app.auditLog.stats();
    }
    process.send!({ id: message.id, reply }, () => {
      if (message.cmd === 'close') process.disconnect();
    });
  });
}

void main();
