/**
 * One instance of an audited app, in its own process, for the multi-process and kill tests.
 * Run as plain JavaScript (launcher.ts transpiles it) against the built package (EAL_DIST), so
 * no jest or ts-jest runs in the child. Its settings come as JSON in EAL_CHILD; it listens on
 * 127.0.0.1, sends `{ port }` to the parent, then answers IPC requests: flush, stats, dump
 * (what its store holds), close.
 */
import type { AuditStore, AuditLogOptions } from 'express-audit-log';
import type { Express } from 'express';

export interface ChildSettings {
  store: 'memory' | 'file' | 'mongo' | 'down';
  /**
   * The app's framework: Express (the default), Hapi (the same POST /items route, the Hapi plugin) or
   * Fastify (POST /items declared after the plugin, which gives it the recorder's route-level onSend,
   * and the same route as POST /early declared before it, whose payload is taken where Node writes it).
   */
  framework?: 'express' | 'hapi' | 'fastify';
  /** file: the SQLite file; mongo: the server's URI. */
  path?: string;
  uri?: string;
  dbName?: string;
  options?: Partial<
    Pick<
      AuditLogOptions,
      'spoolDir' | 'durability' | 'batchSize' | 'flushIntervalMs' | 'maxQueueEntries' | 'retryMinDelayMs' | 'retryMaxDelayMs' | 'publicRoutes' | 'integrity'
    >
  >;
}

export interface DumpedEntry {
  _id: string;
  requestId: string | null;
  date: string;
  statusCode: number | null;
  endpoint: string;
  result: unknown;
}

export type ChildRequest = { id: number; cmd: 'flush' | 'stats' | 'dump' | 'close' };

// eslint-disable-next-line @typescript-eslint/no-require-imports
const pkg = require(process.env.EAL_DIST as string) as typeof import('express-audit-log');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const express = require('express') as () => Express;

/** A store that starts and never takes a write: entries pile up in the queue and the spool. */
function downStore(): AuditStore {
  return {
    init: async () => undefined,
    insertMany: async () => {
      throw new Error('the store is down');
    },
    find: async () => ({ docs: [], total: 0 }),
    count: async () => 0,
    findById: async () => null,
    close: async () => undefined,
  };
}

async function openStore(settings: ChildSettings): Promise<{ store: AuditStore; done: () => Promise<void> }> {
  if (settings.store === 'memory') return { store: pkg.memoryStore(), done: async () => undefined };
  if (settings.store === 'down') return { store: downStore(), done: async () => undefined };
  if (settings.store === 'file') return { store: pkg.fileStore({ path: settings.path! }), done: async () => undefined };
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mongoose = require('mongoose') as typeof import('mongoose');
  const connection = await mongoose.createConnection(settings.uri!, { dbName: settings.dbName }).asPromise();
  return { store: pkg.mongoStore({ connection }), done: () => connection.close() };
}

interface Running {
  audit: { flush(): Promise<void>; close(): Promise<void>; stats(): unknown };
  port: number;
  /** Stops accepting requests; the audit log is closed after. */
  stop(): Promise<void>;
}

// Every request is made by an admin: the verify route is never public.
const ADMIN = () => ({ user: 'tester', scopes: ['admin'] });

async function startExpress(store: AuditStore, settings: ChildSettings): Promise<Running> {
  const audit = pkg.auditLog({ store, ...settings.options, scope: ['admin'], getAuth: ADMIN });
  audit.on('error', () => undefined); // a store that is down reports every retry: expected here
  const app = express();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  app.use((require('express') as typeof import('express')).json());
  app.use(audit);
  let next = 0;
  app.post('/items', (req, res) => {
    res.status(201).json({ _id: `${process.pid}-${++next}`, ...(req.body as object) });
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const address = server.address();
  return {
    audit,
    port: typeof address === 'object' && address ? address.port : 0,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function startHapi(store: AuditStore, settings: ChildSettings): Promise<Running> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const Hapi = require('@hapi/hapi') as typeof import('@hapi/hapi');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { auditLogHapi, PLUGIN_NAME } = require(
    require('path').join(require('path').dirname(process.env.EAL_DIST as string), 'hapi'),
  ) as typeof import('express-audit-log/hapi');
  const server = Hapi.server({ host: '127.0.0.1', port: 0 });
  await server.register({ plugin: auditLogHapi, options: { store, ...settings.options, scope: ['admin'], getAuth: ADMIN } });
  const audit = server.plugins[PLUGIN_NAME];
  audit.on('error', () => undefined);
  let next = 0;
  server.route({
    method: 'POST',
    path: '/items',
    handler: (request, h) => h.response({ _id: `${process.pid}-${++next}`, ...(request.payload as object) }).code(201),
  });
  await server.start();
  // The plugin closes the audit log when the server stops; close() after it finds it closed.
  return { audit, port: server.info.port as number, stop: () => server.stop() };
}

async function startFastify(store: AuditStore, settings: ChildSettings): Promise<Running> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const Fastify = require('fastify') as typeof import('fastify').default;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { auditLogFastify } = require(
    require('path').join(require('path').dirname(process.env.EAL_DIST as string), 'fastify'),
  ) as typeof import('express-audit-log/fastify');
  const app = Fastify();
  let next = 0;
  const created = async (request: { body: unknown }, reply: { code(status: number): unknown }) => {
    reply.code(201);
    return { _id: `${process.pid}-${++next}`, ...(request.body as object) };
  };
  app.post('/early', created);
  await app.register(auditLogFastify, { store, ...settings.options, scope: ['admin'], getAuth: ADMIN });
  app.auditLog.on('error', () => undefined);
  app.post('/items', created);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  // Closing Fastify closes the audit log; close() after it finds it closed.
  return { audit: app.auditLog, port: typeof address === 'object' && address ? address.port : 0, stop: () => app.close() };
}

const STARTERS = { express: startExpress, hapi: startHapi, fastify: startFastify };

async function main(): Promise<void> {
  const settings = JSON.parse(process.env.EAL_CHILD as string) as ChildSettings;
  const { store, done } = await openStore(settings);
  const { audit, port, stop } = await STARTERS[settings.framework ?? 'express'](store, settings);
  process.send!({ port });
  process.on('message', async (message: ChildRequest) => {
    let reply: unknown;
    if (message.cmd === 'flush') {
      await audit.flush();
      reply = audit.stats();
    } else if (message.cmd === 'stats') {
      reply = audit.stats();
    } else if (message.cmd === 'dump') {
      const { docs } = await store.find({ filter: {}, sort: [['date', 1]], skip: 0, limit: 1_000_000, select: null });
      reply = docs.map((doc) => ({
        _id: doc._id,
        requestId: doc.requestId ?? null,
        date: new Date(doc.date as Date).toISOString(),
        statusCode: doc.statusCode ?? null,
        endpoint: doc.endpoint as string,
        result: doc.result,
      }));
    } else {
      await stop();
      await audit.close();
      await done();
      reply = audit.stats();
    }
    process.send!({ id: message.id, reply }, () => {
      if (message.cmd === 'close') process.disconnect();
    });
  });
}

void main();
