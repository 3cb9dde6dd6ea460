'use strict';
/**
 * One function per benchmarked variant; the Fastify and Hapi ones are in variants-fastify.js and
 * variants-hapi.js, and each variant names its `framework` (Express when it names none).
 * An Express variant returns
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
const { waitFor, truncater, pinoFile, auditModuleId, auditPackage, noopStore, auditStore } = require('./variant-kit');
const { FASTIFY_VARIANTS } = require('./variants-fastify');
const { HAPI_VARIANTS } = require('./variants-hapi');

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
  const log = pinoFile(ctx, 'pino.log');
  return {
    middleware: [pinoHttp({ logger: createPino(log.dest) })],
    reset: log.reset,
    teardown: log.close,
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

function auditVariant(audit, extraTeardown = async () => {}) {
  return {
    middleware: [audit],
    audit,
    // The orchestrator calls audit.close() itself (and reports the stats) before teardown; a
    // second close must be harmless, but is not needed, so teardown only releases the rest.
    teardown: extraTeardown,
  };
}

function memory(ctx) {
  const pkg = auditPackage();
  const { store } = auditStore('memory', ctx, pkg);
  return auditVariant(pkg.auditLog({ store, ttl: '1d' }));
}

function noop() {
  const { auditLog } = auditPackage();
  return auditVariant(auditLog({ store: noopStore(), ttl: '1d' }));
}

function file(ctx) {
  const pkg = auditPackage();
  const { store } = auditStore('file', ctx, pkg);
  return auditVariant(pkg.auditLog({ store, ttl: '1d' }));
}

function mongo(ctx) {
  const pkg = auditPackage();
  const { store, release } = auditStore('mongo', ctx, pkg);
  return auditVariant(pkg.auditLog({ store, ttl: '1d' }), release);
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

/** name → { label, build, framework?, audit?, mongo? }: audit variants need dist/, mongo ones also the test server. */
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
  ...FASTIFY_VARIANTS,
  ...HAPI_VARIANTS,
};

/**
 * The frameworks, each with its baseline (every ratio of its rows is taken against it, in the same
 * round) and its usual request logger (the Fastify and Hapi rows are also compared with it).
 */
const FRAMEWORKS = {
  express: { label: 'Express 5', baseline: 'bare', logger: 'pino' },
  fastify: { label: 'Fastify 5', baseline: 'fastify-bare', logger: 'fastify-pino' },
  hapi: { label: 'Hapi 21', baseline: 'hapi-bare', logger: 'hapi-pino' },
};

/** The framework a variant runs on: Express unless it names another. */
const frameworkOf = (variant) => VARIANTS[variant]?.framework || 'express';

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

module.exports = { VARIANTS, FRAMEWORKS, frameworkOf, ALIASES, listQuery, makeEntry, auditModuleId, noopStore };
