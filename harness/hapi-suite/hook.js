'use strict';
/**
 * Preloaded (NODE_OPTIONS=--require) into Hapi's own lab run by run.js, in the "count" and
 * "with" runs. Hapi's files are never edited: `Hapi.server` / `Hapi.Server` of the checkout's
 * lib/index.js are replaced by a wrapped factory, so every server the tests create gets, right
 * after creation (before the test's own routes, exts and plugins):
 * - an onRequest ext of the harness that notes every POST/PUT/PATCH/DELETE reaching the server
 *   (inject() and real HTTP alike), and the status the client got (the raw response's
 *   'finish'/'close'); a prepended raw 'request' listener on `server.listener` also notes HTTP
 *   requests that never reach onRequest;
 * - in the "with" run only: `server.register({ plugin: auditLogHapi, options })` (memoryStore,
 *   transform, logger, ...EAL_OPTIONS). Hapi's register() runs the plugin synchronously but
 *   ends its "registering" state a tick later, and `start()`/`initialize()` refuse to run in
 *   that state: the instance's start/initialize wait for that promise first (harness artefact:
 *   an app awaits its register()).
 * Entries are noted twice: when built (the transform) and when stored (store.insertMany). Lab
 * ends with process.exit(), so the report (EAL_REPORT_DIR/<pid>.json) is written on 'exit'
 * without a last flush; entries built but not yet stored are counted apart.
 */
const path = require('path');
const fs = require('fs');

const checkout = process.env.EAL_CHECKOUT && path.resolve(process.env.EAL_CHECKOUT);
const indexFile = checkout && path.join(checkout, 'lib', 'index.js');
if (checkout && fs.existsSync(indexFile)) install();

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

  const servers = []; // { id, createdAt, server, built: Map, stored: Map, logged: [] }
  const requests = [];
  const recordOf = new WeakMap(); // raw req -> record
  const entryRequest = new Map(); // entry._id -> raw req
  let plugin = null;
  let memoryStore = null;
  if (withPlugin) {
    const dist = path.resolve(process.env.EAL_DIST);
    ({ auditLogHapi: plugin } = require(dist));
    // express-audit-log/hapi does not export the stores (the Fastify entry does): the main entry's.
    ({ memoryStore } = require(path.join(path.dirname(dist), '..', 'index.js')));
  }

  /** The test file and line that created a server, for the report. */
  function createdAt() {
    const line = (new Error().stack || '').split('\n').find((l) => l.includes(testDir));
    return line ? line.slice(line.indexOf(testDir) + testDir.length).replace(/\)$/, '') : '(outside test/)';
  }

  function noteRequest(info, raw, res, via) {
    let record = recordOf.get(raw);
    if (record) return record;
    record = {
      server: info.id,
      createdAt: info.createdAt,
      via,
      method: raw.method,
      url: raw.url,
      path: String(raw.url).split('?')[0],
      statusCode: null,
      finished: false,
      closed: false,
      reachedOnRequest: false,
    };
    requests.push(record);
    recordOf.set(raw, record);
    const done = () => {
      if (record.closed) return;
      record.closed = true;
      record.statusCode = res.statusCode;
      record.finished = Boolean(res.writableFinished || res.finished);
    };
    res.once('finish', done);
    res.once('close', done);
    return record;
  }

  function instrument(server) {
    const info = { id: servers.length, createdAt: createdAt(), server, built: new Map(), stored: new Map(), logged: [], registerFailed: null };
    servers.push(info);
    if (server.listener && typeof server.listener.prependListener === 'function') {
      server.listener.prependListener('request', (raw, res) => {
        if (MUTATING.has(raw.method)) noteRequest(info, raw, res, 'http');
      });
    }
    server.ext('onRequest', function harnessCount(request, h) {
      const raw = request.raw.req;
      if (MUTATING.has(raw.method)) {
        const record = noteRequest(info, raw, request.raw.res, 'inject');
        record.reachedOnRequest = true;
        record.params = () => request.params;
      }
      return h.continue;
    });
    if (!withPlugin) return;
    const store = memoryStore();
    const insertMany = store.insertMany.bind(store);
    store.insertMany = async (entries) => {
      await insertMany(entries);
      for (const entry of entries) info.stored.set(entry._id, entry);
    };
    const pending = server.register({
      plugin,
      options: {
        store,
        transform(entry, request) {
          if (request && request.raw) entryRequest.set(entry._id, request.raw.req);
          info.built.set(entry._id, entry);
          return entry;
        },
        logger: {
          warn: (...args) => info.logged.push({ level: 'warn', message: args.map(String).join(' ') }),
          error: (...args) => info.logged.push({ level: 'error', message: args.map(String).join(' ') }),
        },
        ...extraOptions,
        ...perAppOptions(),
      },
    });
    pending.catch((error) => {
      info.registerFailed = String(error && error.message);
    });
    for (const method of ['initialize', 'start']) {
      const original = server[method];
      server[method] = async function afterRegistration() {
        await pending.catch(() => undefined);
        return original.apply(this, arguments);
      };
    }
  }

  const Hapi = require(indexFile);
  const original = Hapi.server;
  let creating = 0;
  function server() {
    const created = original.apply(this, arguments);
    if (creating === 0) {
      creating++;
      try {
        instrument(created);
      } finally {
        creating--;
      }
    }
    return created;
  }
  Hapi.server = server;
  Hapi.Server = server;

  function brief(entry) {
    const { method, endpoint, statusCode, isError, action, collectionName, documents, params } = entry;
    return { method, endpoint, statusCode, isError, action, collectionName, documents, params, aborted: entry.aborted };
  }

  process.once('exit', () => {
    if (!reportDir || servers.length === 0) return;
    const byRecord = new Map();
    const orphans = [];
    let built = 0;
    let stored = 0;
    for (const info of servers) {
      stored += info.stored.size;
      for (const entry of info.built.values()) {
        built++;
        const raw = entryRequest.get(entry._id);
        const record = raw && recordOf.get(raw);
        if (!record) {
          orphans.push({ server: info.id, createdAt: info.createdAt, entry: brief(entry) });
          continue;
        }
        if (!byRecord.has(record)) byRecord.set(record, []);
        byRecord.get(record).push(entry);
      }
    }
    const problems = [];
    const notReached = [];
    for (const record of withPlugin ? requests : []) {
      const where = {
        createdAt: record.createdAt,
        request: `${record.method} ${record.url}`,
        via: record.via,
        answered: record.statusCode,
        finished: record.finished,
        closed: record.closed,
      };
      const found = byRecord.get(record) || [];
      if (found.length === 0) {
        if (record.reachedOnRequest) problems.push({ kind: 'missing entry', ...where });
        else notReached.push(where);
        continue;
      }
      if (found.length > 1) problems.push({ kind: 'more than one entry', ...where, entries: found.map(brief) });
      const entry = found[0];
      const wrong = [];
      if (entry.method !== record.method) wrong.push(`method ${JSON.stringify(entry.method)}, expected ${JSON.stringify(record.method)}`);
      if (entry.endpoint !== record.path) wrong.push(`endpoint ${JSON.stringify(entry.endpoint)}, expected ${JSON.stringify(record.path)}`);
      if (!record.closed) wrong.push('the response never finished or closed');
      else if (record.finished && entry.statusCode !== record.statusCode) wrong.push(`statusCode ${entry.statusCode}, expected ${record.statusCode}`);
      if (record.closed && !record.finished && !(entry.isError || entry.aborted))
        wrong.push('the client went away before the answer, but the entry looks like a success');
      const params = record.params && record.params();
      if (params && typeof params === 'object' && Object.keys(params).length > 0 && JSON.stringify(entry.params) !== JSON.stringify({ ...params })) {
        wrong.push(`params ${JSON.stringify(entry.params)}, expected ${JSON.stringify({ ...params })}`);
      }
      if (wrong.length > 0) problems.push({ kind: 'wrong entry', ...where, wrong, entry: brief(entry) });
    }
    const report = {
      file: 'lab',
      pid: process.pid,
      flushed: false,
      withPlugin,
      apps: servers.length,
      appsWithAudit: servers.filter((info) => info.server.plugins && info.server.plugins['express-audit-log']).length,
      registerFailures: servers.filter((info) => info.registerFailed).map((info) => ({ createdAt: info.createdAt, message: info.registerFailed })),
      mutatingRequests: requests.length,
      reachedOnRequest: requests.filter((r) => r.reachedOnRequest).length,
      entries: built,
      entriesStored: stored,
      notReachingOnRequest: notReached,
      orphanEntries: orphans,
      logged: servers.flatMap((info) => info.logged.map((l) => ({ server: info.id, createdAt: info.createdAt, ...l }))),
      problems,
    };
    fs.writeFileSync(path.join(reportDir, `${process.pid}.json`), JSON.stringify(report, null, 2));
  });
}
