'use strict';
/**
 * One function per benchmarked variant. Each returns
 *   { middleware: fn[],          // mounted between express.json() and the routes
 *     audit?: the auditLog instance (audit variants only),
 *     reset?: () => void,         // called between rounds, after the load: truncates log files
 *     teardown: () => Promise }   // flushes and closes what the variant opened
 *
 * `ctx` is { dir, mongoUri, listSize } (see server.js). Every log file lives in `ctx.dir`,
 * a temp directory that the orchestrator deletes at the end.
 */
const fs = require('node:fs');
const path = require('node:path');

/** Resolves when `emitter` emits one of `events`, or after `ms` whatever happens. */
function waitFor(emitter, events, ms = 5000) {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      for (const e of events) emitter.removeListener(e, done);
      resolve();
    }
    for (const e of events) emitter.once(e, done);
  });
}

/** Truncating is safe while the stream stays open: every logger here opens its file O_APPEND. */
function truncater(file) {
  return () => {
    try {
      fs.truncateSync(file, 0);
    } catch {
      /* not created yet */
    }
  };
}

function bare() {
  return { middleware: [], teardown: async () => {} };
}

function morgan(ctx) {
  const createMorgan = require('morgan');
  const file = path.join(ctx.dir, 'morgan.log');
  const stream = fs.createWriteStream(file, { flags: 'a' });
  return {
    middleware: [createMorgan('combined', { stream })],
    reset: truncater(file),
    teardown: async () => {
      stream.end();
      await waitFor(stream, ['close', 'error']);
    },
  };
}

function pino(ctx) {
  const createPino = require('pino');
  const pinoHttp = require('pino-http');
  const file = path.join(ctx.dir, 'pino.log');
  const dest = createPino.destination({ dest: file, sync: false });
  const logger = createPino(dest);
  return {
    middleware: [pinoHttp({ logger })],
    reset: truncater(file),
    teardown: async () => {
      dest.end();
      await waitFor(dest, ['close', 'error']);
    },
  };
}

/** Request and response bodies logged as JSON to a file: the closest generic logger to an audit log. */
function winston(ctx) {
  const w = require('winston');
  const expressWinston = require('express-winston');
  const file = path.join(ctx.dir, 'winston.log');
  const logger = w.createLogger({
    format: w.format.json(),
    transports: [new w.transports.File({ filename: file })],
  });
  return {
    middleware: [
      expressWinston.logger({
        winstonInstance: logger,
        requestWhitelist: [...expressWinston.requestWhitelist, 'body'],
        responseWhitelist: [...expressWinston.responseWhitelist, 'body'],
      }),
    ],
    reset: truncater(file),
    teardown: async () => {
      logger.end();
      await waitFor(logger, ['finish', 'error']);
    },
  };
}

/**
 * Loaded lazily, so that the non-audit variants run before dist/ exists. BENCH_AUDIT_MODULE
 * (an absolute path) benchmarks another build of the package instead of this repo's dist/.
 */
function auditModuleId() {
  return process.env.BENCH_AUDIT_MODULE || 'express-audit-log';
}

function auditPackage() {
  try {
    return require(auditModuleId());
  } catch (err) {
    throw new Error(`${auditModuleId()} is not loadable (run \`npm run build\` first): ${err.message}`);
  }
}

function auditVariant(audit, extraTeardown = async () => {}) {
  return {
    middleware: [audit],
    audit,
    // The orchestrator calls audit.close() itself (and reports the stats) before teardown; a
    // second close must be harmless, but is not needed, so teardown only releases the rest.
    teardown: extraTeardown,
  };
}

function memory() {
  const { auditLog, memoryStore } = auditPackage();
  return auditVariant(auditLog({ store: memoryStore(), ttl: '1d' }));
}

/** A store that keeps nothing: what capture and the writer cost apart from any store. */
function noopStore() {
  return {
    init: async () => undefined,
    insertMany: async () => undefined,
    find: async () => ({ docs: [], total: 0 }),
    count: async () => 0,
    findById: async () => null,
    close: async () => undefined,
  };
}

function noop() {
  const { auditLog } = auditPackage();
  return auditVariant(auditLog({ store: noopStore(), ttl: '1d' }));
}

function file(ctx) {
  const { auditLog, fileStore } = auditPackage();
  const store = fileStore({ path: path.join(ctx.dir, 'audit.db') });
  return auditVariant(auditLog({ store, ttl: '1d' }));
}

function mongo(ctx) {
  if (!ctx.mongoUri) throw new Error('the mongo variant needs BENCH_MONGO_URI (the wire-protocol test server)');
  const { auditLog, mongoStore } = auditPackage();
  const mongoose = require('mongoose');
  const connection = mongoose.createConnection(ctx.mongoUri);
  const audit = auditLog({ store: mongoStore({ connection }), ttl: '1d' });
  return auditVariant(audit, async () => {
    await connection.close().catch(() => {});
  });
}

// ---------------------------------------------------------------------------------------------
// List-route variant: the file store, pre-filled with `ctx.listSize` entries before it serves.

const USERS = 20;
const SPAN_MS = 20 * 3600 * 1000; // entries are spread over the last 20 hours (inside the 1d TTL)

/** The query the list scenario sends: one user's entries in a 4-hour window, 50 per page. */
function listQuery(now) {
  const from = new Date(now - 12 * 3600 * 1000).toISOString();
  const to = new Date(now - 8 * 3600 * 1000).toISOString();
  return `/auditLog?user=u1&from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}&$limit=50`;
}

/** Entry `i` of `n`, in the full AuditEntry shape; dates evenly spread over SPAN_MS before `now`. */
function makeEntry(i, n, now) {
  const { ObjectId } = require('bson');
  const method = ['POST', 'PUT', 'DELETE'][i % 3];
  const id = new ObjectId().toHexString();
  const payload = method === 'DELETE' ? null : { name: `item-${i}`, qty: i % 7, tags: ['a', 'b'] };
  return {
    _id: new ObjectId().toHexString(),
    date: new Date(now - Math.floor((i / n) * SPAN_MS)),
    method,
    action: { POST: 'create', PUT: 'update', DELETE: 'delete' }[method],
    endpoint: method === 'POST' ? '/items' : `/items/${id}`,
    user: `u${i % USERS}`,
    collectionName: 'items',
    childCollectionName: null,
    associationType: null,
    documents: [id],
    payload,
    params: method === 'POST' ? {} : { id },
    result: { _id: id, ...(payload || {}) },
    statusCode: method === 'POST' ? 201 : 200,
    isError: false,
    responseMessage: null,
    ipAddress: '127.0.0.1',
    notes: null,
    requestId: `req-${i}`,
    traceId: null,
    durationMs: 1 + (i % 5),
    userAgent: 'bench',
    truncated: null,
  };
}
async function prefill(store, n) {
  const now = Date.now();
  const BATCH = 1000;
  const started = process.hrtime.bigint();
  await store.init({ ttlSeconds: null });
  for (let i = 0; i < n; i += BATCH) {
    const batch = [];
    for (let j = i; j < Math.min(n, i + BATCH); j++) batch.push(makeEntry(j, n, now));
    await store.insertMany(batch);
  }
  return Number(process.hrtime.bigint() - started) / 1e6;
}

/** Async: the prefill happens before the app listens. `publicRoutes` so no auth is needed. */
async function fileList(ctx) {
  const { auditLog, fileStore } = auditPackage();
  const store = fileStore({ path: path.join(ctx.dir, `audit-list-${ctx.listSize}.db`) });
  const prefillMs = await prefill(store, ctx.listSize);
  const audit = auditLog({ store, ttl: '1d', publicRoutes: true });
  return { ...auditVariant(audit), info: { prefillMs, entries: ctx.listSize } };
}

/** name → { label, kind, build } ; kind 'audit' variants need dist/, 'mongo' also the test server. */
const VARIANTS = {
  bare: { label: 'bare (baseline)', build: bare },
  control: { label: 'bare again (A/A control)', build: bare },
  morgan: { label: "morgan 'combined' → file", build: morgan },
  pino: { label: 'pino-http → async file', build: pino },
  winston: { label: 'express-winston, bodies → file', build: winston },
  noop: { label: 'audit: capture only (a store that keeps nothing)', audit: true, build: noop },
  memory: { label: 'audit: memoryStore', audit: true, build: memory },
  file: { label: 'audit: fileStore (SQLite)', audit: true, build: file },
  mongo: { label: 'audit: mongoStore (wire test server)', audit: true, mongo: true, build: mongo },
  'file-list': { label: 'audit: fileStore, pre-filled', audit: true, build: fileList },
};

/** Accepted spellings for --only. */
const ALIASES = {
  baseline: 'bare',
  'bare-control': 'control',
  aa: 'control',
  'pino-http': 'pino',
  'express-winston': 'winston',
  capture: 'noop',
  'noop-store': 'noop',
  'memory-store': 'memory',
  memorystore: 'memory',
  'file-store': 'file',
  filestore: 'file',
  nedb: 'file',
  sqlite: 'file',
  'mongo-store': 'mongo',
  mongostore: 'mongo',
};

module.exports = { VARIANTS, ALIASES, listQuery, makeEntry, auditModuleId, noopStore };
