'use strict';
/**
 * Loaded by mocha with `--require` in the "with" runs of run.js (never in the bare run). It
 * inserts express-audit-log into every app Express's own tests create, without editing them:
 * the Express factory is wrapped where it is loaded (Module._load), so `require('..')`,
 * `require('../../lib/express')` and the examples all get the wrapped one.
 *
 * Independently of the middleware, it notes every request that reaches an HTTP server whose
 * listener is one of those apps (http.Server's 'request' event), what the app answered, and
 * the params of the last route that ran. At the end (mocha's root afterAll) it flushes every
 * audit instance and writes what it saw to EAL_REPORT as JSON for run.js to compare.
 *
 * Environment: EAL_DIST (the package's dist/index.js), EAL_CHECKOUT (the Express checkout),
 * EAL_MODE ('first': the audit middleware is the app's first middleware; 'last': it is added
 * just before the first route or mounted router), EAL_OPTIONS (JSON merged into the options),
 * EAL_REPORT (where to write the JSON).
 */
const Module = require('module');
const path = require('path');
const fs = require('fs');
const http = require('http');

const checkout = path.resolve(process.env.EAL_CHECKOUT);
const dist = path.resolve(process.env.EAL_DIST);
const distDir = path.dirname(dist);
const mode = process.env.EAL_MODE || 'first';
const extraOptions = JSON.parse(process.env.EAL_OPTIONS || '{}');
const reportFile = process.env.EAL_REPORT;
const expressFile = path.join(checkout, 'lib', 'express.js');
const checkoutIndex = path.join(checkout, 'index.js');

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const WRAPPED = Symbol('eal-harness-wrapped');

// The package must see the Express under test, as it would in an app that depends on it
// (otherwise it would load the worktree's own Express 5 next to an app on Express 4).
const originalResolve = Module._resolveFilename;
Module._resolveFilename = function resolveFilename(request, parent, ...rest) {
  if (request === 'express' && parent && parent.filename && parent.filename.startsWith(distDir + path.sep)) return checkoutIndex;
  return originalResolve.call(this, request, parent, ...rest);
};

let currentTest = '(outside any test)';
const apps = []; // { id, createdIn, audit, store, instrumentErrors }
const appInfo = new WeakMap(); // app -> info
const requests = []; // one per request that reached a server whose listener is one of our apps
const requestInfo = new WeakMap(); // req -> the record in `requests`
const entryRequest = new Map(); // entry._id -> req, filled by the transform option
const untrackedServerRequests = { count: 0 };
const auditErrors = [];
let creating = 0;

function instrument(app) {
  const store = memoryStore();
  const options = {
    store,
    transform(entry, req) {
      entryRequest.set(entry._id, req);
      return entry;
    },
    ...extraOptions,
  };
  const audit = auditLog(options);
  const info = { id: apps.length, createdIn: currentTest, audit, store };
  audit.on('error', (error) => auditErrors.push({ app: info.id, test: currentTest, code: error.code, message: error.message }));
  apps.push(info);
  appInfo.set(app, info);
  // Notes which requests reached the middleware: in 'last' mode, a request the app answered
  // earlier (or an error in flight, which skips non-error middleware) is rightly not recorded.
  const noted = function auditLogMiddleware(req, res, next) {
    const record = requestInfo.get(req);
    if (record && !record.reachedAudit) {
      record.reachedAudit = true;
      record.methodAtMiddleware = req.method;
    }
    return audit(req, res, next);
  };
  if (mode === 'first') insertFirst(app, noted);
  else insertBeforeRoutes(app, noted);
}

/** The audit middleware becomes the app router's first layer (after Express 4's query/init), when the router is created. */
function insertFirst(app, audit) {
  // Added when Express creates the app's router, not at once: an early app.use() would freeze
  // the router's 'case sensitive routing' and 'strict routing' before the tests set them.
  onRouterCreated(app, (router) => router.use(audit));
}

/** The audit middleware is added just before the first route or mounted router/app, after the app's own middleware. */
function insertBeforeRoutes(app, audit) {
  onRouterCreated(app, (router) => {
    let inserted = false;
    const insert = () => {
      if (inserted) return;
      inserted = true;
      originalUse.call(router, audit);
    };
    const originalUse = router.use;
    const originalRoute = router.route;
    router.use = function use(...args) {
      const fns = args.flat(Infinity).filter((a) => typeof a === 'function');
      if (fns.some((fn) => fn.name === 'mounted_app' || Array.isArray(fn.stack) || (typeof fn.handle === 'function' && typeof fn.set === 'function'))) insert();
      return originalUse.apply(this, args);
    };
    router.route = function route(...args) {
      insert();
      return originalRoute.apply(this, args);
    };
  });
}

function onRouterCreated(app, callback) {
  if (typeof app.lazyrouter === 'function') {
    // Express 4: app.lazyrouter() creates app._router and adds query + expressInit.
    const lazyrouter = app.lazyrouter;
    app.lazyrouter = function wrappedLazyrouter() {
      const had = Boolean(this._router);
      const result = lazyrouter.apply(this, arguments);
      if (!had && this._router) callback(this._router);
      return result;
    };
    return;
  }
  // Express 5: app.router is a lazy getter defined by app.init().
  const descriptor = Object.getOwnPropertyDescriptor(app, 'router');
  if (!descriptor || typeof descriptor.get !== 'function') throw new Error('harness: this Express has neither app.lazyrouter nor a lazy app.router getter');
  let seen = null;
  Object.defineProperty(app, 'router', {
    configurable: true,
    enumerable: descriptor.enumerable,
    get() {
      const router = descriptor.get.call(this);
      if (router !== seen) {
        seen = router;
        callback(router);
      }
      return router;
    },
  });
}

function wrapFactory(factory) {
  if (factory[WRAPPED]) return factory;
  function createApplication() {
    const app = factory.apply(this, arguments);
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
  for (const key of Reflect.ownKeys(factory)) {
    if (key === 'length' || key === 'name' || key === 'prototype') continue;
    Object.defineProperty(createApplication, key, Object.getOwnPropertyDescriptor(factory, key));
  }
  createApplication[WRAPPED] = true;
  return createApplication;
}

// Every path to the factory (`require('..')`, `require('../../lib/express')`, the package's own
// `require('express')`) returns the same function: the wrapped one is handed out instead.
const originalFactory = require(expressFile);
const wrappedFactory = wrapFactory(originalFactory);
const originalLoad = Module._load;
Module._load = function load() {
  const exported = originalLoad.apply(this, arguments);
  return exported === originalFactory ? wrappedFactory : exported;
};

const { auditLog, memoryStore } = require(dist);

// The params of the last route that ran for a request: the ones an entry should carry.
function patchRouteDispatch() {
  let routeFile;
  try {
    routeFile = require.resolve('router/lib/route', { paths: [checkout] }); // Express 5
  } catch {
    routeFile = path.join(checkout, 'lib', 'router', 'route.js'); // Express 4
  }
  const Route = require(routeFile);
  const dispatch = Route.prototype.dispatch;
  Route.prototype.dispatch = function harnessDispatch(req, res, done) {
    const record = requestInfo.get(req);
    if (record && req.params && Object.keys(req.params).length > 0) record.routeParams = { ...req.params };
    if (record) record.routePath = (req.baseUrl || '') + String(this.path);
    return dispatch.apply(this, arguments);
  };
}
patchRouteDispatch();

const originalEmit = http.Server.prototype.emit;
http.Server.prototype.emit = function emit(event, req, res) {
  if (event === 'request') {
    const listener = this.listeners('request').find((l) => appInfo.has(l));
    if (!listener) untrackedServerRequests.count++;
    else if (MUTATING.has(req.method)) {
      const record = {
        app: appInfo.get(listener).id,
        test: currentTest,
        method: req.method,
        url: req.url,
        path: req.url.split('?')[0],
        statusCode: null,
        finished: false,
        routeParams: null,
        routePath: null,
        reachedAudit: false,
      };
      requests.push(record);
      requestInfo.set(req, record);
      res.on('close', () => {
        record.statusCode = res.statusCode;
        record.finished = res.writableFinished;
      });
    }
  }
  return originalEmit.apply(this, arguments);
};

async function writeReport() {
  const entries = [];
  for (const info of apps) {
    await info.audit.flush();
    const { docs } = await info.store.find({ filter: {}, sort: [['date', 1]], skip: 0, limit: 1e9, select: null });
    for (const entry of docs) entries.push({ app: info.id, entry });
  }
  const byRequest = new Map();
  const orphans = [];
  for (const { app, entry } of entries) {
    const req = entryRequest.get(entry._id);
    const record = req && requestInfo.get(req);
    if (!record) {
      orphans.push({ app, entry: brief(entry) });
      continue;
    }
    if (!byRequest.has(record)) byRequest.set(record, []);
    byRequest.get(record).push(entry);
  }
  const problems = [];
  const notReached = [];
  for (const record of requests) {
    const found = byRequest.get(record) || [];
    const where = {
      test: record.test,
      request: `${record.method} ${record.url}`,
      answered: record.statusCode,
      finished: record.finished,
      routePath: record.routePath,
    };
    if (found.length === 0) {
      if (record.reachedAudit) problems.push({ kind: 'missing entry', ...where });
      else notReached.push(where);
      continue;
    }
    if (found.length > 1) problems.push({ kind: 'more than one entry', ...where, entries: found.map(brief) });
    const entry = found[0];
    const wrong = [];
    // The method the middleware's filter decided on (a method-override before it is part of the request it sees).
    const method = record.methodAtMiddleware || record.method;
    if (entry.method !== method)
      wrong.push(`method ${JSON.stringify(entry.method)}, expected ${JSON.stringify(method)} (the method when the request reached the middleware)`);
    if (entry.endpoint !== record.path) wrong.push(`endpoint ${JSON.stringify(entry.endpoint)}, expected ${JSON.stringify(record.path)}`);
    if (entry.statusCode !== record.statusCode) wrong.push(`statusCode ${entry.statusCode}, expected ${record.statusCode}`);
    if (!record.finished && !(entry.isError || entry.aborted)) wrong.push('the client went away before the answer, but the entry looks like a success');
    if (record.routeParams && JSON.stringify(entry.params) !== JSON.stringify(record.routeParams)) {
      wrong.push(`params ${JSON.stringify(entry.params)}, expected ${JSON.stringify(record.routeParams)}`);
    }
    if (wrong.length > 0) problems.push({ kind: 'wrong entry', ...where, wrong, entry: brief(entry) });
  }
  const report = {
    mode,
    options: extraOptions,
    apps: apps.length,
    mutatingRequests: requests.length,
    entries: entries.length,
    untrackedServerRequests: untrackedServerRequests.count,
    notReachingTheMiddleware: notReached,
    orphanEntries: orphans,
    auditErrors,
    problems,
    stats: apps.reduce((sum, info) => {
      const stats = info.audit.stats();
      for (const key of Object.keys(stats)) sum[key] = (sum[key] || 0) + stats[key];
      return sum;
    }, {}),
  };
  fs.writeFileSync(reportFile, JSON.stringify(report, null, 2));
  await Promise.all(apps.map((info) => info.audit.close()));
}

function brief(entry) {
  const { method, endpoint, statusCode, isError, action, collectionName, documents, params, requestId } = entry;
  return { method, endpoint, statusCode, isError, action, collectionName, documents, params, requestId, aborted: entry.aborted };
}

exports.mochaHooks = {
  beforeEach() {
    currentTest = this.currentTest.fullTitle();
  },
  afterEach() {
    currentTest = '(between tests)';
  },
  async afterAll() {
    await writeReport();
  },
};
