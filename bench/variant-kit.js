'use strict';
/**
 * What every framework's variants share: loading the package under test, log files in the
 * run's temp directory, and waiting for a stream to close. No framework is required here.
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

/**
 * pino's asynchronous file destination (sonic-boom), as every pino variant uses it: the log
 * lines are buffered and written after the response, which the measurement window includes.
 */
function pinoFile(ctx, name) {
  const createPino = require('pino');
  const file = path.join(ctx.dir, name);
  const dest = createPino.destination({ dest: file, sync: false });
  return {
    dest,
    reset: truncater(file),
    close: async () => {
      dest.end();
      await waitFor(dest, ['close', 'error']);
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

/** The package (`subpath` '' for the root, '/fastify', '/hapi'), with a hint when dist/ is missing. */
function auditPackage(subpath = '') {
  const id = auditModuleId() + subpath;
  try {
    return require(id);
  } catch (err) {
    throw new Error(`${id} is not loadable (run \`npm run build\` first): ${err.message}`);
  }
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

/**
 * The audit stores the variants compare: `kind` is memory, file or mongo, `pkg` the entry the
 * variant loaded (the root for Express; `/fastify` and `/hapi` export the same stores and load no
 * Express, as in a user's Fastify or Hapi app). Returns the store and what else teardown must
 * release (mongo's connection).
 */
function auditStore(kind, ctx, pkg) {
  if (kind === 'memory') return { store: pkg.memoryStore(), release: async () => {} };
  if (kind === 'file') return { store: pkg.fileStore({ path: path.join(ctx.dir, 'audit.db') }), release: async () => {} };
  if (kind === 'mongo') {
    if (!ctx.mongoUri) throw new Error('a mongo variant needs BENCH_MONGO_URI (the wire-protocol test server)');
    const connection = require('mongoose').createConnection(ctx.mongoUri);
    return { store: pkg.mongoStore({ connection }), release: () => connection.close().catch(() => {}) };
  }
  throw new Error(`unknown audit store ${kind}`);
}

module.exports = { waitFor, truncater, pinoFile, auditModuleId, auditPackage, noopStore, auditStore };
