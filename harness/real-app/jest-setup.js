'use strict';
/**
 * Given to the app's jest with `--setupFilesAfterEnv` in the "with" run (never in the bare run).
 * It runs inside each test file's sandbox, before the test file loads the app:
 *
 * - `globalThis.__ealHarness.register(audit)` is what the one patched line in the app wraps its
 *   `auditLog(...)` in; `options()` supplies the store chosen by run.js and a transform that
 *   only notes which request an entry came from.
 * - every request that reaches an HTTP server (http.Server's 'request' event; supertest starts
 *   one per request) is noted, independently of the middleware, with what the app answered,
 *   the route that ran (Express's Route#dispatch: its params and its router's mount point) and
 *   the passport user;
 * - after the file's tests, the audit instances are flushed and what they stored is compared
 *   with those requests; the result is appended as one JSON line to EAL_REPORT.
 */
const fs = require('fs');
const http = require('http');
const path = require('path');

const appDir = process.env.EAL_APP_DIR;
const reportFile = process.env.EAL_REPORT;
const storeChoice = process.env.EAL_STORE || 'memory';
const extraOptions = JSON.parse(process.env.EAL_OPTIONS || '{}');
const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

// Workaround (run.js --workarounds performance): jest 26's node environment has no global
// `performance`, which the recorder used; set only to measure the rest, and reported as such.
if (process.env.EAL_WORKAROUND_PERFORMANCE === '1' && typeof performance === 'undefined') globalThis.performance = require('perf_hooks').performance;

// The same module instances the app gets: jest's registry keys them by path.
const pkg = require(path.join(appDir, 'node_modules', 'express-audit-log'));
const Route = require(path.join(appDir, 'node_modules', 'express', 'lib', 'router', 'route.js'));

let currentTest = '(outside any test)';
const audits = [];
const requests = [];
const requestInfo = new WeakMap();
const entryRequest = new Map();
const auditErrors = [];

function makeStore() {
  if (storeChoice === 'memory') return pkg.memoryStore();
  if (storeChoice === 'file') return pkg.fileStore({ path: path.join(process.env.EAL_WORK, `audit-${process.pid}-${Date.now()}.db`) });
  if (storeChoice === 'default') return undefined;
  throw new Error(`EAL_STORE must be memory, file or default, not ${storeChoice}`);
}

globalThis.__ealHarness = {
  options() {
    const store = makeStore();
    return {
      ...(store ? { store } : {}),
      transform(entry, req) {
        entryRequest.set(entry._id, req);
        return entry;
      },
      ...extraOptions,
    };
  },
  register(audit) {
    audits.push(audit);
    audit.on('error', (error) => auditErrors.push({ test: currentTest, code: error.code, message: error.message }));
    return audit;
  },
};

const dispatch = Route.prototype.dispatch;
Route.prototype.dispatch = function harnessDispatch(req) {
  const record = requestInfo.get(req);
  if (record) {
    record.routeParams = req.params && Object.keys(req.params).length > 0 ? { ...req.params } : null;
    record.routePath = (req.baseUrl || '') + String(this.path);
    record.mountPath = req.baseUrl || '';
  }
  return dispatch.apply(this, arguments);
};

const originalEmit = http.Server.prototype.emit;
http.Server.prototype.emit = function emit(event, req, res) {
  if (event === 'request' && MUTATING.has(req.method)) {
    const record = {
      test: currentTest,
      method: req.method,
      url: req.url,
      path: req.url.split('?')[0],
      statusCode: null,
      finished: false,
      routeParams: null,
      routePath: null,
      mountPath: null,
      user: null,
    };
    requests.push(record);
    requestInfo.set(req, record);
    res.on('close', () => {
      record.statusCode = res.statusCode;
      record.finished = res.writableFinished;
      record.user = req.user && req.user.id ? String(req.user.id) : null;
    });
  }
  return originalEmit.apply(this, arguments);
};

beforeEach(() => {
  currentTest = expect.getState().currentTestName;
});

afterEach(async () => {
  currentTest = '(between tests)';
  // After every test, before the app's next beforeEach empties every collection of its
  // connection (this app's setupTestDB does; with a store on that connection, auditLog too).
  if (collected === null) await snapshot();
});

/**
 * Flushes every instance and reads back what it stored, once. With a store on the app's own
 * mongoose connection this must happen before the test file disconnects it (the README's advice
 * for test suites), so mongoose.disconnect() is wrapped to do it first; afterAll does it otherwise.
 */
let collected = null;
const seenEntries = new Map(); // _id -> entry, across snapshots
async function snapshot() {
  for (const audit of audits) {
    // Nothing to read. (And flush() never resolves while a store's mongoose connection was never
    // opened, even with nothing queued — a finding; the app's docs test never connects.)
    if (audit.stats().recorded === 0) continue;
    await audit.flush();
    const { docs } = await audit.store.find({ filter: {}, sort: [['date', 1]], skip: 0, limit: 1e9, select: null });
    for (const entry of docs) if (!seenEntries.has(entry._id)) seenEntries.set(entry._id, entry);
  }
}
let ttlIndex = null; // with the default store: the auditLog collection's date index, as the server has it
function collect() {
  collected ??= snapshot().then(async () => {
    if (storeChoice === 'default' && audits.some((audit) => audit.stats().recorded > 0) && appMongoose.connection.readyState === 1) {
      const indexes = await appMongoose.connection.db.collection('auditLog').indexes();
      const date = indexes.find((index) => JSON.stringify(index.key) === '{"date":1}');
      ttlIndex = date
        ? { name: date.name, expireAfterSeconds: date.expireAfterSeconds ?? null }
        : { missing: true, indexes: indexes.map((index) => index.key) };
    }
    return [...seenEntries.values()];
  });
  return collected;
}
const appMongoose = require(path.join(appDir, 'node_modules', 'mongoose'));
const disconnect = appMongoose.disconnect;
appMongoose.disconnect = async function disconnectAfterFlush(...args) {
  if (audits.length > 0) await collect();
  return disconnect.apply(this, args);
};

afterAll(async () => {
  http.Server.prototype.emit = originalEmit;
  Route.prototype.dispatch = dispatch;
  appMongoose.disconnect = disconnect;
  const entries = await collect();
  const byRequest = new Map();
  const orphans = [];
  for (const entry of entries) {
    const record = requestInfo.get(entryRequest.get(entry._id));
    if (!record) orphans.push(brief(entry));
    else if (byRequest.has(record)) byRequest.get(record).push(entry);
    else byRequest.set(record, [entry]);
  }
  const problems = [];
  for (const record of requests) {
    const found = byRequest.get(record) || [];
    const where = { test: record.test, request: `${record.method} ${record.url}`, answered: record.statusCode, route: record.routePath };
    if (found.length !== 1) {
      problems.push({ kind: found.length === 0 ? 'missing entry' : 'more than one entry', ...where, entries: found.map(brief) });
      if (found.length === 0) continue;
    }
    const entry = found[0];
    problems.push(...check(record, entry).map((wrong) => ({ kind: 'wrong entry', field: wrong.field, ...where, wrong: wrong.text, entry: brief(entry) })));
  }
  fs.appendFileSync(
    reportFile,
    `${JSON.stringify({ file: expect.getState().testPath, audits: audits.length, mutatingRequests: requests.length, entries: entries.length, ttlIndex, problems, orphans, auditErrors, stats: audits.map((a) => a.stats()) })}\n`,
  );
  await Promise.all(audits.map((audit) => audit.close(1000)));
});

/** What the entry should say about the request, from what the harness saw on its own. */
function check(record, entry) {
  const wrong = [];
  const expect = (field, actual, expected, why) => {
    if (JSON.stringify(actual) !== JSON.stringify(expected))
      wrong.push({ field, text: `${field} ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}${why ? ` (${why})` : ''}` });
  };
  expect('method', entry.method, record.method);
  expect('endpoint', entry.endpoint, record.path);
  expect('statusCode', entry.statusCode, record.statusCode);
  if (!record.finished && !(entry.isError || entry.aborted))
    wrong.push({ field: 'aborted', text: 'the client went away before the answer, but the entry looks like a success' });
  if (record.routePath) {
    // The resource is the innermost router's mount point: /v1/users/:userId → users.
    const mount = record.mountPath.split('/').filter(Boolean).pop() || null;
    expect('collectionName', entry.collectionName, mount, `route ${record.routePath}`);
    expect('params', entry.params, record.routeParams, `route ${record.routePath}`);
    const idParams = record.routeParams ? Object.values(record.routeParams).map(String) : [];
    if (idParams.length > 0) expect('documents', entry.documents, idParams, `route ${record.routePath}`);
    else {
      // No :param, no document from the path (a created id from the result is fine).
      const literals = new Set(record.routePath.split('/').filter(Boolean));
      const fromPath = (entry.documents || []).filter((id) => literals.has(id));
      if (fromPath.length > 0)
        wrong.push({
          field: 'documents',
          text: `documents ${JSON.stringify(entry.documents)} holds path segments ${JSON.stringify(fromPath)} of a route without params (route ${record.routePath})`,
        });
    }
    // This app has no association routes (/:owner/:ownerId/:child): the action follows the method.
    const action = { POST: 'Create', PUT: 'Update', PATCH: 'Update', DELETE: 'Delete' }[record.method];
    expect('action', entry.action, action, `route ${record.routePath}`);
  }
  expect('user', entry.user, record.user, 'passport req.user.id');
  // Secrets: this app's tokens are JWTs (in bodies, results and query strings); passwords are in bodies.
  const jwt = JSON.stringify(entry).match(/eyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]{8,}/);
  if (jwt)
    wrong.push({ field: 'secrets', text: `a JWT is stored in the entry: …${JSON.stringify(entry).slice(Math.max(0, jwt.index - 60), jwt.index + 20)}…` });
  if (entry.payload && typeof entry.payload === 'object' && 'password' in entry.payload && entry.payload.password !== '[REDACTED]')
    wrong.push({ field: 'secrets', text: 'payload.password is stored' });
  return wrong;
}

function brief(entry) {
  const { method, endpoint, statusCode, isError, action, collectionName, childCollectionName, documents, params, user, requestId } = entry;
  return { method, endpoint, statusCode, isError, action, collectionName, childCollectionName, documents, params, user, requestId, aborted: entry.aborted };
}
