'use strict';
/**
 * Preloaded (`node --require hook.js lab ...`) in the "observe" and "with" runs of run.js (never
 * in the bare run). Hapi's test files are never edited:
 *
 * - `Hapi.server()` / `Hapi.Server()` / `new Hapi.Server()` (the checkout's lib/index.js, which the
 *   tests require as '..') is wrapped so that, in the "with" runs, every server registers the audit
 *   plugin: `server.register({ plugin: auditLogHapi, options: { store: memoryStore(), transform } })`,
 *   at once (EAL_MODE 'first') or at its first initialize()/start()/inject() ('last').
 *   The plugin's register is synchronous, so Hapi runs it (its ext points and routes) inside the
 *   `server.register()` call, before the test's next line. Only Hapi's `registring` counter stays up
 *   until a microtask later, and `initialize()`/`start()` refuse to run while it is up: those two
 *   are wrapped not to count our registration while it is pending (nothing is awaited, the timing
 *   of every call is unchanged). A registration failure is printed, recorded in the report and
 *   rethrown from `initialize()`/`start()`.
 * - Independently of the plugin, every request any of those servers receives (listener or
 *   `server.inject`) is noted when Hapi creates it (`Request.generate`): the method and path it
 *   arrived with; the plugin's own onRequest notes what it saw; at the end, what the client got
 *   (`request.raw.res`) and the route's params.
 * - Lab's `script()` is wrapped so each test function first notes its title: requests and servers
 *   are attributed to the test that made them.
 *
 * At the end (lab's `process.exit`), every plugin handle is flushed and its store read; the report
 * goes to EAL_REPORT as JSON for run.js.
 *
 * Environment: EAL_CHECKOUT (Hapi checkout), EAL_DIST (this worktree's dist/hapi/index.js),
 * EAL_PLUGIN ('1': register the plugin; '0': observe only), EAL_MODE ('first' or 'last'), EAL_OPTIONS (JSON merged into the
 * plugin's options), EAL_REPORT (where the JSON goes).
 */
const path = require('path');
const fs = require('fs');

const checkout = path.resolve(process.env.EAL_CHECKOUT);
const withPlugin = process.env.EAL_PLUGIN === '1';
const mode = process.env.EAL_MODE || 'first';
const extraOptions = JSON.parse(process.env.EAL_OPTIONS || '{}');
const reportFile = process.env.EAL_REPORT;
const { auditLogHapi, memoryStore } = require(path.resolve(process.env.EAL_DIST));

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const PLUGIN_NAME = 'express-audit-log';

let currentTest = '(loading test files)';
const servers = []; // { id, createdIn, handle, store, registration: { settled, error } }
const serverOfCore = new WeakMap(); // Hapi core -> server info
const requests = []; // one per request that reached one of the servers
const recordOf = new WeakMap(); // Hapi request -> its record in `requests`
const counts = { requests: 0 };
const entryRequest = new Map(); // entry._id -> Hapi request, noted by the transform option
const auditErrors = [];
const registrationFailures = [];
let pluginRoutes = null; // how many routes the plugin adds to a server (with these options)

// ---- test titles: lab's script() hands out wrapped test/hook functions ------------------------
const Lab = require(require.resolve('@hapi/lab', { paths: [checkout] }));
const originalScript = Lab.script;
Lab.script = function script(...args) {
  const s = originalScript.apply(this, args);
  const test = s.test;
  const wrappedTest = function wrappedTest(title, options, fn) {
    const result = test.call(this, title, options, fn);
    const added = s._current.tests[s._current.tests.length - 1];
    if (added && typeof added.fn === 'function') {
      const original = added.fn;
      const name = `${added.path.join('/')} :: ${added.relativeTitle}`;
      added.fn = function labTest(flags) {
        currentTest = name;
        return original.call(this, flags);
      };
    }
    return result;
  };
  wrappedTest.skip = test.skip;
  wrappedTest.only = test.only;
  s.test = wrappedTest;
  s.it = wrappedTest;
  for (const hook of ['before', 'beforeEach', 'after', 'afterEach']) {
    const original = s[hook];
    s[hook] = function wrappedHook(options, fn) {
      const where = `(${hook} in ${s._titles.join(' ') || 'script'})`;
      const wrap = (f) =>
        function labHook(flags) {
          currentTest = where;
          return f.call(this, flags);
        };
      if (typeof options === 'function') return original.call(this, wrap(options));
      return original.call(this, options, typeof fn === 'function' ? wrap(fn) : fn);
    };
  }
  return s;
};

// ---- requests: noted when Hapi creates them, before any extension runs ----------------------
const HapiRequest = require(path.join(checkout, 'lib', 'request.js'));
const generate = HapiRequest.generate;
HapiRequest.generate = function harnessGenerate(server, req, res, options) {
  const request = generate.call(this, server, req, res, options);
  counts.requests++;
  const info = serverOfCore.get(server._core);
  if (info) {
    // Every request is noted: in 'last' mode an onRequest extension of the app's may change a GET
    // into a POST before the plugin sees it.
    const record = {
      server: info.id,
      test: currentTest,
      method: String(req.method).toUpperCase(),
      url: req.url,
      path: request.path, // what Hapi parsed from the url (stripTrailingSlash applied), before onRequest can change it
      injected: Boolean(options && options.isInjected),
      request,
      atPlugin: null, // { method, path } when the plugin's onRequest ran for it
    };
    requests.push(record);
    recordOf.set(request, record);
  }
  return request;
};

// ---- servers: every one gets the plugin ---------------------------------------------------
const Hapi = require(checkout);
const originalFactory = Hapi.server;

function instrument(server) {
  const info = { id: servers.length, createdIn: currentTest, handle: null, store: null, registration: { settled: true, error: null } };
  servers.push(info);
  serverOfCore.set(server._core, info);
  if (!withPlugin) return;
  const store = memoryStore();
  info.store = store;
  const options = {
    store,
    transform(entry, request) {
      entryRequest.set(entry._id, request);
      return entry;
    },
    ...extraOptions,
  };
  const fail = (error) => {
    if (info.registration.error) return;
    info.registration.error = error;
    registrationFailures.push({ server: info.id, test: info.createdIn, message: error.message });
    console.error(`[eal-hapi-harness] registering the plugin failed in "${info.createdIn}": ${error.stack}`);
  };
  // The plugin itself, its register called through so that a failure is known at once (it runs synchronously).
  const plugin = {
    ...auditLogHapi,
    register(srv, opts) {
      // What the plugin's own onRequest sees (in 'last' mode, after the app's onRequest extensions).
      const ext = srv.ext;
      srv.ext = function notingOnRequest(event, method, ...rest) {
        if (event !== 'onRequest' || typeof method !== 'function') return ext.call(this, event, method, ...rest);
        return ext.call(
          this,
          event,
          function pluginOnRequest(request, h) {
            const record = recordOf.get(request);
            if (record && !record.atPlugin) record.atPlugin = { method: request.method.toUpperCase(), path: request.path };
            return method.call(this, request, h);
          },
          ...rest,
        );
      };
      try {
        return auditLogHapi.register(srv, opts);
      } catch (error) {
        fail(error);
        throw error;
      }
    },
  };
  let registered = false;
  const register = () => {
    if (registered) return;
    registered = true;
    info.registration.settled = false;
    const routesBefore = server.table().length;
    server.register({ plugin, options }).then(
      () => {
        info.registration.settled = true;
      },
      (error) => {
        info.registration.settled = true;
        fail(error); // seen through initialize()/start() and the report, not as an unhandled rejection
      },
    );
    info.handle = server.plugins[PLUGIN_NAME] || null;
    pluginRoutes ??= server.table().length - routesBefore;
    if (info.handle) info.handle.on('error', (error) => auditErrors.push({ server: info.id, test: currentTest, code: error.code, message: error.message }));
  };
  // 'first': registered at once, before anything of the test's. 'last': when the server is first
  // initialized, started or injected into, after the test's own routes, extensions and plugins
  // (its onRequest extensions then run before the plugin's, its onPreResponse ones too).
  if (mode === 'first') register();
  // The plugin's register has run (ext points, routes, exposed handle) when server.register()
  // returns, but Hapi's `registring` counter stays up until a microtask later and
  // initialize()/start() refuse to run while it is up. Those two calls do not count our
  // registration while it is pending (Hapi checks synchronously), so a test whose own registration
  // is pending still gets Hapi's refusal, and the timing of every call is unchanged.
  for (const method of ['initialize', 'start']) {
    const original = server[method];
    server[method] = function withoutOurPendingRegistration(...args) {
      register();
      if (info.registration.error) return Promise.reject(info.registration.error);
      if (info.registration.settled) return original.apply(this, args);
      server._core.registring--;
      try {
        return original.apply(this, args);
      } finally {
        server._core.registring++;
      }
    };
  }
  if (mode === 'last') {
    const inject = server.inject;
    server.inject = function registeringFirst(...args) {
      register();
      return inject.apply(this, args);
    };
  }
}

function harnessServer(options) {
  const server = originalFactory(options);
  instrument(server);
  return server;
}
Hapi.server = harnessServer;
Hapi.Server = harnessServer;

// ---- the report ------------------------------------------------------------------------------
function withDeadline(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms))),
  ]).finally(() => clearTimeout(timer));
}

function isMatchedRoute(request) {
  const specials = request._core.router.specials;
  return request._route !== specials.notFound.route && request._route !== specials.badRequest.route;
}

async function writeReport() {
  const entries = [];
  const flushProblems = [];
  for (const info of servers) {
    if (!info.store) continue;
    if (info.handle) {
      try {
        await withDeadline(Promise.resolve(info.handle.flush()), 5000, `flush() of server ${info.id}`);
      } catch (error) {
        flushProblems.push({ server: info.id, test: info.createdIn, message: error.message });
      }
    }
    const { docs } = await info.store.find({ filter: {}, sort: [['date', 1]], skip: 0, limit: 1e9, select: null });
    for (const entry of docs) entries.push({ server: info.id, entry });
  }
  const byRequest = new Map();
  const orphans = [];
  for (const { server, entry } of entries) {
    const request = entryRequest.get(entry._id);
    const record = request && recordOf.get(request);
    if (!record) {
      orphans.push({ server, entry: brief(entry) });
      continue;
    }
    if (!byRequest.has(record)) byRequest.set(record, []);
    byRequest.get(record).push(entry);
  }
  const problems = [];
  const notReachingThePlugin = [];
  let mutating = 0;
  let withParams = 0;
  let injected = 0;
  for (const record of requests) {
    const { request } = record;
    // 'first': the plugin's onRequest runs first, so the request as it arrived is what it must
    // record. 'last': what its onRequest saw, after the app's (which may answer first, or change
    // the method or url); a request it never saw is rightly not recorded.
    const expected = mode === 'first' ? { method: record.method, path: record.path } : record.atPlugin;
    if (!expected) {
      if (MUTATING.has(record.method) && !byRequest.has(record)) notReachingThePlugin.push({ test: record.test, request: `${record.method} ${record.url}` });
      if (!byRequest.has(record)) continue;
    }
    const method = expected ? expected.method : record.method;
    if (!MUTATING.has(method) && !byRequest.has(record)) continue;
    mutating++;
    const res = request.raw.res;
    const finished = Boolean(res.writableFinished);
    const statusCode = res.headersSent ? res.statusCode : null;
    const where = {
      test: record.test,
      request: `${record.method} ${record.url}${record.injected ? ' (inject)' : ''}${method !== record.method ? ` (${method} when the plugin saw it)` : ''}`,
      answered: statusCode,
      finished,
      completed: Boolean(request.info.completed),
      route: isMatchedRoute(request) ? request.route.path : null,
    };
    const found = byRequest.get(record) || [];
    if (record.injected) injected++;
    if (found.length === 0) {
      problems.push({ kind: 'missing entry', ...where });
      continue;
    }
    if (found.length > 1) problems.push({ kind: 'more than one entry', ...where, entries: found.map(brief) });
    const entry = found[0];
    const wrong = [];
    if (!MUTATING.has(method)) wrong.push(`recorded, but its method was ${method} when the plugin saw it`);
    if (entry.method !== method) wrong.push(`method ${JSON.stringify(entry.method)}, expected ${JSON.stringify(method)}`);
    const endpoint = expected ? expected.path : record.path;
    if (entry.endpoint !== endpoint) wrong.push(`endpoint ${JSON.stringify(entry.endpoint)}, expected ${JSON.stringify(endpoint)}`);
    if (finished || statusCode === null) {
      if (entry.statusCode !== statusCode) wrong.push(`statusCode ${entry.statusCode}, expected ${statusCode}`);
    }
    if (!finished && !(entry.isError || entry.aborted)) wrong.push('the client did not get the whole answer, but the entry looks like a success');
    if (isMatchedRoute(request) && request.params && Object.keys(request.params).length > 0) {
      withParams++;
      if (JSON.stringify(entry.params) !== JSON.stringify(request.params))
        wrong.push(`params ${JSON.stringify(entry.params)}, expected ${JSON.stringify(request.params)}`);
    }
    if (wrong.length > 0) problems.push({ kind: 'wrong entry', ...where, wrong, entry: brief(entry) });
  }
  const report = {
    withPlugin,
    mode,
    options: extraOptions,
    servers: servers.length,
    pluginRoutes,
    requests: counts.requests,
    mutatingRequests: mutating,
    notReachingThePlugin,
    injectedMutatingRequests: injected,
    mutatingRequestsWithRouteParams: withParams,
    entries: entries.length,
    registrationFailures,
    flushProblems,
    orphanEntries: orphans,
    auditErrors,
    problems,
    stats: servers.reduce((sum, info) => {
      if (!info.handle) return sum;
      const stats = info.handle.stats();
      for (const key of Object.keys(stats)) if (typeof stats[key] === 'number') sum[key] = (sum[key] || 0) + stats[key];
      return sum;
    }, {}),
  };
  fs.writeFileSync(reportFile, JSON.stringify(report, null, 2));
}

function brief(entry) {
  const { method, endpoint, statusCode, isError, aborted, action, collectionName, documents, params, requestId } = entry;
  return { method, endpoint, statusCode, isError, aborted, action, collectionName, documents, params, requestId };
}

// Lab ends with process.exit(code): write the report first (flushing is asynchronous).
const realExit = process.exit;
let exiting = false;
process.exit = function harnessExit(code) {
  if (exiting) return realExit.call(process, code);
  exiting = true;
  writeReport()
    .catch((error) => {
      console.error(`[eal-hapi-harness] writing the report failed: ${error.stack}`);
      process.exitCode = 3;
    })
    .finally(() => realExit.call(process, code ?? process.exitCode));
};
