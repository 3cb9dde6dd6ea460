'use strict';
/**
 * Preloaded (NODE_OPTIONS=--require) into every process of Fastify's own test run by run.js,
 * in the "count" and "with" runs (never in the bare one). Fastify's files are never edited: the
 * checkout's fastify.js is loaded once and its cached exports are replaced by a wrapped factory,
 * so `require('..')`, `require('../../fastify')`, `{ fastify }`, `.default` and ESM imports all
 * create instrumented instances.
 *
 * Each instance the factory creates gets, right after creation (before the test's own
 * plugins, hooks and routes):
 * - an onRequest hook of the harness that notes every POST/PUT/PATCH/DELETE reaching the app
 *   (inject() and real HTTP alike) and the status the client got ('close' of the raw response);
 *   on real servers a prepended raw 'request' listener also notes requests that never reach
 *   onRequest (so that the plugin could not see them either);
 * - in the "with" run only: `app.register(auditLogFastify, { store: memoryStore(), transform, logger, ...EAL_OPTIONS })`,
 *   without await. The transform notes which request an entry came from; the logger collects
 *   what the plugin reports (it logs through `logger` when nobody listens for 'error').
 *
 * When the process is about to exit, every audit handle is flushed and a JSON report is
 * written to EAL_REPORT_DIR/<pid>.json for run.js: requests, entries, problems.
 *
 * Environment: EAL_CHECKOUT (the Fastify checkout), EAL_DIST (this package's dist/fastify/index.js),
 * EAL_PLUGIN ('1': register the plugin; '0': only count), EAL_OPTIONS (JSON merged into the
 * options), EAL_REPORT_DIR.
 */
const Module = require('module');
const path = require('path');
const fs = require('fs');

const checkout = process.env.EAL_CHECKOUT && path.resolve(process.env.EAL_CHECKOUT);
const fastifyFile = checkout && path.join(checkout, 'fastify.js');
// Processes the tests spawn inherit NODE_OPTIONS; only those that load this Fastify are instrumented.
if (checkout && fs.existsSync(fastifyFile)) install();

function install() {
  const withPlugin = process.env.EAL_PLUGIN === '1';
  const extraOptions = JSON.parse(process.env.EAL_OPTIONS || '{}');
  const reportDir = process.env.EAL_REPORT_DIR;
  // `"spoolDir": "per-app"` in --options: a fresh spool directory for each instance (the suites
  // run many instances per process and several processes at once).
  const perAppOptions = () => {
    if (extraOptions.spoolDir !== 'per-app') return {};
    const base = path.join(reportDir ? path.dirname(reportDir) : require('os').tmpdir(), 'spool');
    fs.mkdirSync(base, { recursive: true });
    return { spoolDir: fs.mkdtempSync(path.join(base, 'app-')) };
  };
  const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
  const testDir = path.join(checkout, 'test') + path.sep;
  const testFile = process.argv.slice(1).find((a) => /\.test\.m?js$/.test(a)) || process.argv[1] || '(unknown)';

  const apps = []; // { id, app, entries: Map<_id, entry>, logged: [] }
  const requests = []; // one record per mutating request that reached an app
  const recordOf = new WeakMap(); // raw req -> record
  const entryRequest = new Map(); // entry._id -> raw req (from the transform)
  let plugin = null;
  let memoryStore = null;
  if (withPlugin) ({ auditLogFastify: plugin, memoryStore } = require(path.resolve(process.env.EAL_DIST)));

  /** The test file and line that created an app, for the report. */
  function createdAt() {
    const line = (new Error().stack || '').split('\n').find((l) => l.includes(testDir));
    return line ? line.slice(line.indexOf(testDir) + testDir.length).replace(/\)$/, '') : '(outside test/)';
  }

  function noteRequest(app, raw, res, via) {
    let record = recordOf.get(raw);
    if (record) return record;
    record = {
      app: app.id,
      createdAt: app.createdAt,
      via,
      method: raw.method,
      url: raw.url,
      path: String(raw.url).split('?')[0],
      statusCode: null,
      finished: false,
      closed: false,
      reachedOnRequest: false,
      params: null,
    };
    requests.push(record);
    recordOf.set(raw, record);
    const done = () => {
      if (record.closed) return;
      record.closed = true;
      record.statusCode = res.statusCode;
      record.finished = Boolean(res.writableFinished || res.finished);
      record.headersSent = res.headersSent;
    };
    res.once('close', done);
    return record;
  }

  function instrument(app) {
    const info = { id: apps.length, createdAt: createdAt(), app, entries: new Map(), logged: [], storeFailed: null };
    apps.push(info);
    const server = app.server;
    if (server && typeof server.prependListener === 'function') {
      server.prependListener('request', (raw, res) => {
        if (MUTATING.has(raw.method)) noteRequest(info, raw, res, 'http');
      });
    }
    app.addHook('onRequest', function harnessCount(request, reply, done) {
      const raw = request.raw;
      if (MUTATING.has(raw.method)) {
        const record = noteRequest(info, raw, reply.raw, 'inject');
        record.reachedOnRequest = true;
        record.request = request;
      }
      done();
    });
    if (!withPlugin) return;
    const store = memoryStore();
    const insertMany = store.insertMany.bind(store);
    // Keeps a copy of what reached the store: the store is closed with the app.
    store.insertMany = async (entries) => {
      await insertMany(entries);
      for (const entry of entries) info.entries.set(entry._id, entry);
    };
    info.store = store;
    app.register(plugin, {
      store,
      transform(entry, request) {
        if (request && request.raw) entryRequest.set(entry._id, request.raw);
        return entry;
      },
      logger: {
        warn: (...args) => info.logged.push({ level: 'warn', message: args.map(String).join(' ') }),
        error: (...args) => info.logged.push({ level: 'error', message: args.map(String).join(' ') }),
      },
      ...extraOptions,
      ...perAppOptions(),
    });
  }

  /** Wraps the factory; the same wrapped function is handed out for every path to it. */
  function wrap(original) {
    let creating = 0;
    function fastify() {
      const app = original.apply(this, arguments);
      if (creating === 0) {
        creating++;
        try {
          instrument(app);
        } finally {
          creating--;
        }
      }
      return app;
    }
    for (const key of Reflect.ownKeys(original)) {
      if (key === 'length' || key === 'name' || key === 'prototype') continue;
      Object.defineProperty(fastify, key, Object.getOwnPropertyDescriptor(original, key));
    }
    fastify.fastify = fastify;
    fastify.default = fastify;
    return fastify;
  }
  // Wrapped when a test first requires or imports fastify.js (both compile it through
  // Module._extensions['.js']), not loaded here at once: that would run Fastify's lib/ before
  // tests that stub its internals (test/diagnostics-channel/error-before-handler.test.js).
  // The module's exports are replaced, so every later require or import gets the wrapped factory.
  const compileJs = Module._extensions['.js'];
  Module._extensions['.js'] = function compile(module, filename) {
    const result = compileJs.apply(this, arguments);
    if (filename === fastifyFile && typeof module.exports === 'function') module.exports = wrap(module.exports);
    return result;
  };

  let written = false;
  async function flushAll() {
    for (const info of apps) {
      const handle = info.app.auditLog;
      if (handle && typeof handle.flush === 'function') {
        try {
          await handle.flush();
        } catch (error) {
          info.storeFailed = String(error && error.message);
        }
      }
    }
  }

  function writeReport(flushed) {
    if (written || !reportDir || apps.length === 0) return;
    written = true;
    const problems = [];
    const notReached = [];
    const neverAnswered = [];
    const byRecord = new Map();
    const orphans = [];
    let entries = 0;
    for (const info of apps) {
      for (const entry of info.entries.values()) {
        entries++;
        const raw = entryRequest.get(entry._id);
        const record = raw && recordOf.get(raw);
        if (!record) {
          orphans.push({ app: info.id, entry: brief(entry) });
          continue;
        }
        if (!byRecord.has(record)) byRecord.set(record, []);
        byRecord.get(record).push(entry);
      }
    }
    for (const record of requests) {
      const where = {
        createdAt: record.createdAt,
        request: `${record.method} ${record.url}`,
        via: record.via,
        answered: record.statusCode,
        finished: record.finished,
        closed: record.closed,
      };
      const found = byRecord.get(record) || [];
      if (!withPlugin) continue;
      if (found.length === 0) {
        // A response that never ended nor closed (a handler that never replies): nothing to record yet.
        if (!record.closed) neverAnswered.push(where);
        else if (record.reachedOnRequest) problems.push({ kind: 'missing entry', ...where });
        else notReached.push(where);
        continue;
      }
      if (found.length > 1) problems.push({ kind: 'more than one entry', ...where, entries: found.map(brief) });
      const entry = found[0];
      const wrong = [];
      if (entry.method !== record.method) wrong.push(`method ${JSON.stringify(entry.method)}, expected ${JSON.stringify(record.method)}`);
      if (entry.endpoint !== record.path) wrong.push(`endpoint ${JSON.stringify(entry.endpoint)}, expected ${JSON.stringify(record.path)}`);
      if (!record.closed) wrong.push('the response never closed');
      // A client gone before any of the answer was sent: the entry's status is null (no status went out), as on Express.
      else if (entry.statusCode !== record.statusCode && !(entry.statusCode === null && !record.finished && !record.headersSent))
        wrong.push(`statusCode ${entry.statusCode}, expected ${record.statusCode}`);
      if (record.closed && !record.finished && !(entry.isError || entry.aborted))
        wrong.push('the client went away before the answer, but the entry looks like a success');
      // Only a matched route has params to record: Fastify's 404 handler has a catch-all `*` param, no route.
      const params = record.request && !record.request.is404 && record.request.params;
      if (params && typeof params === 'object' && Object.keys(params).length > 0 && JSON.stringify(entry.params) !== JSON.stringify({ ...params })) {
        wrong.push(`params ${JSON.stringify(entry.params)}, expected ${JSON.stringify({ ...params })}`);
      }
      if (wrong.length > 0) problems.push({ kind: 'wrong entry', ...where, wrong, entry: brief(entry) });
    }
    const report = {
      file: testFile,
      pid: process.pid,
      flushed,
      withPlugin,
      apps: apps.length,
      appsWithAudit: apps.filter((info) => info.app.auditLog).length,
      mutatingRequests: requests.length,
      reachedOnRequest: requests.filter((r) => r.reachedOnRequest).length,
      entries,
      notReachingOnRequest: notReached,
      neverAnswered,
      orphanEntries: orphans,
      logged: apps.flatMap((info) => info.logged.map((l) => ({ app: info.id, ...l }))),
      storeFailures: apps.filter((info) => info.storeFailed).map((info) => ({ app: info.id, message: info.storeFailed })),
      problems,
    };
    fs.writeFileSync(path.join(reportDir, `${process.pid}.json`), JSON.stringify(report, null, 2));
  }

  function brief(entry) {
    const { method, endpoint, statusCode, isError, action, collectionName, documents, params } = entry;
    return { method, endpoint, statusCode, isError, action, collectionName, documents, params, aborted: entry.aborted };
  }

  process.once('beforeExit', () => {
    flushAll().then(
      () => writeReport(true),
      () => writeReport(false),
    );
  });
  // A test file that ends with process.exit(): report what is known, without the last flush.
  process.once('exit', () => writeReport(false));
}
