#!/usr/bin/env node
'use strict';
/**
 * Benchmark orchestrator (see bench/README.md).
 *
 *   node bench/run.js [--quick] [--frameworks=express,fastify,hapi] [--only=bare,memory]
 *                     [--scenarios=mixed,latency,get,sizes,list] [--rounds=N] [--duration=S]
 *                     [--list-sizes=10000,100000] [--cpu-prof]
 *
 * Forks one app per variant (bench/server.js), loads them with autocannon from this process in
 * interleaved rounds, and writes bench/results/latest.json and latest.md.
 */
const { fork, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const autocannon = require('autocannon');
const { VARIANTS, FRAMEWORKS, frameworkOf, listQuery, auditModuleId } = require('./variants');
const { parseArgs, UsageError } = require('./args');
const { KNOWN_OPTIONS, config } = require('./run-options');
const report = require('./report');
const { pacedLoad } = require('./paced');

const ROOT = path.resolve(__dirname, '..');
const RESULTS_DIR = path.join(__dirname, 'results');
const MONGO_CLI_TS = path.join(ROOT, 'test/support/mongo-server/cli.ts');
const MONGO_CLI_JS = path.join(__dirname, '.build/test/support/mongo-server/cli.js');
const ITEM_ID = '65a1b2c3d4e5f60718293a4b';

// ------------------------------------------------------------------------------ options

function usage() {
  return fs
    .readFileSync(__filename, 'utf8')
    .split('\n')
    .slice(3, 8)
    .map((l) => l.replace(/^ \* ?/, ''))
    .join('\n');
}

// ------------------------------------------------------------------------------ scenarios

/** A JSON body of exactly `size` bytes: a few fields, order lines, padding in `note`. */
function makeBody(size) {
  const doc = { name: 'widget', qty: 3, price: 9.99, tags: ['a', 'b'], lines: [], note: '' };
  let i = 0;
  while (JSON.stringify(doc).length + 80 < size && i < 100000) {
    doc.lines.push({ sku: `SKU-${String(i).padStart(6, '0')}`, qty: (i % 9) + 1, desc: 'standard part, boxed' });
    i++;
  }
  if (doc.lines.length === 0) delete doc.lines;
  const missing = size - JSON.stringify(doc).length;
  doc.note = 'x'.repeat(Math.max(0, missing));
  return JSON.stringify(doc);
}

const JSON_HEADERS = { 'content-type': 'application/json' };

/**
 * Each scenario: which variants it runs (in table order) and its loads; each load is run in
 * interleaved rounds over its own app processes (see runRounds).
 */
function writeRequests(c) {
  const body = makeBody(c.bodySize);
  return [
    { method: 'POST', path: '/items', headers: JSON_HEADERS, body },
    { method: 'PUT', path: `/items/${ITEM_ID}`, headers: JSON_HEADERS, body },
    { method: 'DELETE', path: `/items/${ITEM_ID}` },
  ];
}

/** Each scenario's variants per framework, in table order; the first of each is its baseline. */
const SCENARIOS = {
  mixed: {
    title: 'POST/PUT/DELETE, 100 B',
    variants: {
      express: ['bare', 'control', 'morgan', 'pino', 'winston', 'noop', 'memory', 'file', 'mongo'],
      fastify: ['fastify-bare', 'fastify-pino', 'fastify-memory', 'fastify-file', 'fastify-mongo'],
      hapi: ['hapi-bare', 'hapi-pino', 'hapi-memory', 'hapi-file', 'hapi-mongo'],
    },
    loads: (c) => [{ key: null, duration: c.durations.mixed, requests: writeRequests(c) }],
  },
  // The same writes at a fixed rate below saturation: at full load (mixed) every variant queues,
  // and added latency there is mostly lost throughput. Here it is the time each request costs.
  latency: {
    title: 'POST/PUT/DELETE, 100 B, at a fixed rate',
    variants: { express: ['bare', 'control', 'pino', 'winston', 'noop', 'memory', 'file', 'mongo'] },
    loads: (c) => [{ key: null, duration: c.durations.latency, rate: c.fixedRate, requests: writeRequests(c) }],
  },
  get: {
    title: 'GET only',
    variants: {
      express: ['bare', 'control', 'memory', 'file', 'mongo'],
      fastify: ['fastify-bare', 'fastify-memory', 'fastify-file'],
      hapi: ['hapi-bare', 'hapi-memory', 'hapi-file'],
    },
    loads: (c) => [{ key: null, duration: c.durations.get, requests: [{ method: 'GET', path: `/items/${ITEM_ID}` }] }],
  },
  sizes: {
    title: 'POST, growing bodies',
    variants: { express: ['bare', 'memory', 'winston'] },
    loads: (c) =>
      c.sizes.map((size) => ({
        key: size,
        duration: c.durations.sizes,
        requests: [{ method: 'POST', path: '/items', headers: JSON_HEADERS, body: makeBody(size) }],
      })),
  },
  // The list scenario is not a round-robin: see runList().
  list: { title: 'list route', variants: { express: ['file'] } },
};

// ------------------------------------------------------------------------------ processes

const children = new Set();
let tempDir = null; // removed on any exit

function killAll() {
  for (const c of children) {
    try {
      c.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
  children.clear();
}
process.on('exit', () => {
  killAll();
  if (tempDir) fs.rmSync(tempDir, { recursive: true, force: true });
});
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    console.error(`\n${sig}: stopping children`);
    process.exit(130);
  });
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** A forked app: resolves { port, call(cmd), child } once it listens. */
function startApp(variant, { scenario, dir, mongoUri, listSize, cpuProf }) {
  const execArgv = [];
  if (cpuProf) {
    const profDir = path.join(RESULTS_DIR, 'profiles');
    fs.mkdirSync(profDir, { recursive: true });
    execArgv.push('--cpu-prof', `--cpu-prof-dir=${profDir}`, `--cpu-prof-name=${scenario}-${variant}.cpuprofile`);
  }
  // A directory per process: the file store of one scenario must not be reopened by the next.
  const ownDir = fs.mkdtempSync(path.join(dir, `${scenario}-${variant}-`));
  const child = fork(path.join(__dirname, 'server.js'), [variant], {
    cwd: ROOT,
    execArgv,
    env: {
      ...process.env,
      NODE_ENV: 'production',
      BENCH_DIR: ownDir,
      BENCH_MONGO_URI: mongoUri || '',
      BENCH_LIST_SIZE: String(listSize || 0),
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));

  let nextId = 1;
  const pending = new Map();
  let exited = null;
  child.on('message', (msg) => {
    const p = msg && pending.get(msg.id);
    if (!p) return;
    pending.delete(msg.id);
    if (msg.ok) p.resolve(msg.result);
    else p.reject(new Error(`${variant}: ${msg.error}`));
  });
  child.once('exit', (code, signal) => {
    exited = `exited (${signal || code})`;
    for (const p of pending.values()) p.reject(new Error(`${variant} ${exited}`));
    pending.clear();
  });
  const call = (cmd, ms = 30000) => {
    if (exited) return Promise.reject(new Error(`${variant} ${exited}`));
    const id = nextId++;
    const answer = new Promise((resolve, reject) => pending.set(id, { resolve, reject }));
    child.send({ cmd, id });
    return withTimeout(answer, ms, `${variant} ${cmd}`);
  };

  const ready = new Promise((resolve, reject) => {
    child.on('message', (msg) => {
      if (msg && msg.type === 'ready') resolve({ port: msg.port, info: msg.info, call, child, variant });
      if (msg && msg.type === 'fatal') reject(new Error(`${variant} failed to start: ${msg.error}`));
    });
    child.once('exit', (code, signal) => reject(new Error(`${variant} exited before listening (${signal || code})`)));
  });
  const startMs = listSize ? 60000 + listSize * 2 : 60000; // a big pre-fill takes a while
  return withTimeout(ready, startMs, `${variant} start`).catch((err) => {
    child.kill('SIGKILL');
    throw err;
  });
}

async function stopApp(app) {
  try {
    await app.call('exit', 10000);
  } catch {
    /* killed below */
  }
  await withTimeout(new Promise((r) => (app.child.exitCode !== null ? r() : app.child.once('exit', r))), 10000, 'exit').catch(() => app.child.kill('SIGKILL'));
}

/** Compiles the wire-protocol test server with bench/tsconfig.json and starts it in its own process. */
async function startMongoServer(problems) {
  const tsc = require.resolve('typescript/bin/tsc');
  console.log('compiling the MongoDB wire-protocol test server (bench/tsconfig.json → bench/.build/)');
  try {
    execFileSync(process.execPath, [tsc, '-p', path.join(__dirname, 'tsconfig.json')], { cwd: ROOT, stdio: 'inherit' });
  } catch (err) {
    // tsc still emits on type errors; go on with what it wrote, but say so.
    if (!fs.existsSync(MONGO_CLI_JS)) throw err;
    problems.push('tsc -p bench/tsconfig.json reported errors; the mongo test server ran from what it emitted anyway');
  }
  if (!fs.existsSync(MONGO_CLI_JS)) throw new Error(`${path.relative(ROOT, MONGO_CLI_JS)} was not produced by tsc`);
  const child = fork(path.join(__dirname, 'mongo-server.js'), [], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  const uri = await withTimeout(
    new Promise((resolve, reject) => {
      let buf = '';
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (chunk) => {
        buf += chunk;
        let nl;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          try {
            const parsed = JSON.parse(line);
            if (parsed && typeof parsed.uri === 'string') return resolve(parsed.uri);
          } catch {
            /* not the JSON line */
          }
        }
        if (buf.length > 1e5) buf = '';
      });
      child.once('exit', (code) => reject(new Error(`mongo test server exited (${code}) before printing its uri`)));
    }),
    30000,
    'mongo test server start',
  );
  child.stdout.resume(); // keep draining whatever it prints later
  if (!/^mongodb:\/\/(127\.0\.0\.1|localhost|\[::1\])[:/]/.test(uri)) {
    child.kill('SIGKILL');
    throw new Error(`mongo test server uri is not on loopback: ${uri}`);
  }
  return { uri, child };
}

// ------------------------------------------------------------------------------ noise

/**
 * CPU used on the machine by processes that are not this benchmark (Linux /proc only, else null):
 * whole-machine busy time minus the CPU of this process and its children. Other work on the
 * 2 cores (a test suite, a build) skews every number; the report flags runs where it was high.
 */
const TICK_MS = 10; // USER_HZ is 100 on Linux
function machineBusyMs() {
  try {
    const f = fs.readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal
    return (f[0] + f[1] + f[2] + f[5] + f[6] + (f[7] || 0)) * TICK_MS;
  } catch {
    return null;
  }
}
function pidCpuMs(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * TICK_MS; // utime, stime
  } catch {
    return 0;
  }
}
function oursCpuMs() {
  let ms = pidCpuMs(process.pid);
  for (const c of children) ms += pidCpuMs(c.pid);
  return ms;
}
function noiseProbe() {
  const busy0 = machineBusyMs();
  const ours0 = oursCpuMs();
  const t0 = Date.now();
  return () => {
    const busy1 = machineBusyMs();
    if (busy0 == null || busy1 == null) return null;
    const elapsed = Date.now() - t0;
    const foreign = Math.max(0, busy1 - busy0 - (oursCpuMs() - ours0));
    return foreign / (elapsed * os.cpus().length); // fraction of the machine
  };
}

// ------------------------------------------------------------------------------ one run

const MAX_LATENCY_SAMPLES = 5_000_000;

/**
 * One autocannon run. Latency percentiles are computed here from every 2xx response time
 * (float ms) because autocannon's own histogram has 1 ms resolution, too coarse for "+p99 ≤ 1 ms".
 */
async function load(port, requests, duration, connections) {
  const latencies = [];
  const instance = autocannon({
    url: `http://127.0.0.1:${port}`,
    connections,
    pipelining: 1,
    duration,
    requests,
  });
  instance.on('response', (_client, statusCode, _bytes, responseTime) => {
    if (statusCode >= 200 && statusCode < 300 && latencies.length < MAX_LATENCY_SAMPLES) latencies.push(responseTime);
  });
  const result = await instance;
  return {
    rps: result['2xx'] / result.duration,
    ...report.latencyPercentiles(latencies),
    answered: result['2xx'] + result.non2xx,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    duration: result.duration,
  };
}

/** One measured window: begin → autocannon → end (after the child has drained its queue). */
async function measure(app, requests, duration, connections, storePid = null, rate = null) {
  const storeCpu0 = storePid ? pidCpuMs(storePid) : 0;
  await app.call('begin');
  const probe = noiseProbe();
  const r = rate ? await pacedLoad({ port: app.port, requests, duration, rate, connections }) : await load(app.port, requests, duration, connections);
  const otherCpu = probe();
  const w = await app.call('end', 60000);
  // The mongo variant's database work runs in the test server's process, outside w.cpuUs.
  const storeCpuUs = storePid ? (pidCpuMs(storePid) - storeCpu0) * 1000 : null;
  const problems = [];
  if (r.non2xx) problems.push(`${r.non2xx} non-2xx responses`);
  if (r.errors) problems.push(`${r.errors} connection errors`);
  if (r.timeouts) problems.push(`${r.timeouts} timeouts`);
  if (!w.settled) problems.push(`still busy 30 s after the load (${w.queued} audit entries queued)`);
  return {
    ...r,
    cpuUsPerReq: w.answered ? w.cpuUs / w.answered : null,
    cpuUs: w.cpuUs,
    storeCpuUsPerReq: storeCpuUs != null && w.answered ? storeCpuUs / w.answered : null,
    serverAnswered: w.answered,
    rssPeak: w.rssPeak,
    otherCpu,
    problems,
  };
}

// ------------------------------------------------------------------------------ scenarios

/**
 * Interleaved rounds of one load over fresh app processes (one per variant): every variant once
 * per round, the order rotated each round, round 1 (shorter) discarded as warm-up. `load.key` is
 * the body size in the size scenario, which gets fresh processes per size so that a 100 KB run
 * does not leave a big heap behind for the next 100 B run. One framework's variants at a time:
 * each is compared with its own framework's baseline.
 */
async function runRounds(name, c, ctx, framework, variants, ld) {
  const baseline = FRAMEWORKS[framework].baseline;
  const tag = `${ld.key ? ` ${ld.key} B` : ''}${framework === 'express' ? '' : ` on ${framework}`}`;
  const procName = ld.key ? `${name}-${ld.key}` : name;
  const width = Math.max(8, ...variants.map((v) => v.length));
  console.log(`\n== ${name}${tag}: ${SCENARIOS[name].title} — ${variants.join(', ')}`);
  const apps = new Map();
  const runs = [];
  const finishes = [];
  try {
    const started = await Promise.allSettled(variants.map((v) => startApp(v, { ...ctx, scenario: procName })));
    started.forEach((s, i) => {
      if (s.status === 'fulfilled') return apps.set(variants[i], s.value);
      ctx.problems.push(`${name}${tag}/${variants[i]}: ${s.reason.message.split('\n')[0]}`);
      console.error(`  ! ${s.reason.message}`);
    });
    if (!apps.has(baseline)) throw new Error(`${name}${tag}: ${baseline} did not start, nothing to compare with`);
    const running = variants.filter((v) => apps.has(v));
    const failed = new Set();
    for (let round = 0; round < c.rounds; round++) {
      const warmup = round === 0;
      const order = running.map((_, i) => running[(i + round) % running.length]); // rotated
      for (const v of order) {
        if (failed.has(v)) continue;
        const duration = warmup ? Math.min(c.warmupSeconds, ld.duration) : ld.duration;
        const storePid = VARIANTS[v].mongo && ctx.mongoPid ? ctx.mongoPid : null;
        let m;
        try {
          m = await measure(apps.get(v), ld.requests, duration, c.connections, storePid, ld.rate);
        } catch (err) {
          // A crashed or stuck app drops out of the scenario; the others go on.
          failed.add(v);
          ctx.problems.push(`${name}${tag}/${v} round ${round + 1}: ${err.message.split('\n')[0]} (dropped from this scenario)`);
          console.error(`  ! ${v}: ${err.message}`);
          if (v === baseline) throw new Error(`${name}${tag}: ${baseline} failed, nothing to compare with`);
          continue;
        }
        runs.push({ scenario: name, framework, round, warmup, variant: v, size: ld.key, ...m });
        console.log(
          `  round ${round + 1}/${c.rounds}${warmup ? ' (warm-up)' : '          '} ${v.padEnd(width)} ` +
            `${Math.round(m.rps).toString().padStart(6)} req/s  p50 ${m.p50.toFixed(2)} ms  p99 ${m.p99.toFixed(2)} ms  ` +
            `${m.cpuUsPerReq == null ? '–' : m.cpuUsPerReq.toFixed(1)} µs/req  rss ${Math.round(m.rssPeak / 1048576)} MB` +
            `${m.otherCpu == null ? '' : `  others ${(m.otherCpu * 100).toFixed(0)}%`}` +
            `${m.problems.length ? '  ! ' + m.problems.join(', ') : ''}`,
        );
        for (const p of m.problems) ctx.problems.push(`${name}${tag}/${v} round ${round + 1}: ${p}`);
      }
    }
    for (const [v, app] of apps) {
      if (!VARIANTS[v].audit || failed.has(v)) continue;
      finishes.push(await finishAudit(procName, v, app));
    }
  } finally {
    await Promise.all([...apps.values()].map(stopApp));
  }
  return { runs, finishes };
}

async function finishAudit(scenario, variant, app) {
  try {
    const f = await app.call('finish', 120000);
    return { scenario, variant, ...f };
  } catch (err) {
    return { scenario, variant, error: err.message.split('\n')[0] };
  }
}

/** The list route: one pre-filled file-store app per size, 1 connection, after a short warm-up. */
async function runList(c, ctx) {
  console.log(`\n== list: GET /auditLog on the file store — ${c.listSizes.join(', ')} entries`);
  const rows = [];
  const finishes = [];
  for (const size of c.listSizes) {
    let app;
    try {
      console.log(`  pre-filling ${size} entries…`);
      app = await startApp('file-list', { ...ctx, scenario: `list-${size}`, listSize: size });
      const p = listQuery(Date.now());
      const requests = [{ method: 'GET', path: p }];
      const check = await fetch(`http://127.0.0.1:${app.port}${p}`);
      const body = await check.text();
      if (check.status !== 200) throw new Error(`GET ${p} answered ${check.status}: ${body.slice(0, 200)}`);
      await load(app.port, requests, c.listWarmupSeconds, c.listConnections);
      const m = await measure(app, requests, c.durations.list, c.listConnections);
      let matched = null;
      let returned = null;
      try {
        const page = JSON.parse(body);
        matched = page.items?.total ?? page.total ?? null;
        returned = Array.isArray(page.docs) ? page.docs.length : null;
      } catch {
        /* reported as unknown */
      }
      if (!returned) ctx.problems.push(`list/${size}: the query returned no entries, so it measures nothing useful`);
      rows.push({ entries: size, path: p, prefillMs: app.info?.prefillMs ?? null, matched, returned, ...m });
      console.log(
        `  ${size} entries: p50 ${m.p50.toFixed(2)} ms  p99 ${m.p99.toFixed(2)} ms  ${Math.round(m.rps)} req/s (pre-fill ${(app.info?.prefillMs / 1000).toFixed(1)} s)`,
      );
      for (const pr of m.problems) ctx.problems.push(`list/${size}: ${pr}`);
      finishes.push(await finishAudit(`list-${size}`, 'file-list', app));
    } catch (err) {
      ctx.problems.push(`list/${size}: ${err.message.split('\n')[0]}`);
      console.error(`  ! ${err.message}`);
    } finally {
      if (app) await stopApp(app);
    }
  }
  return { rows, finishes };
}

// ------------------------------------------------------------------------------ main

function machine() {
  const cpus = os.cpus();
  return {
    cpu: cpus[0] ? cpus[0].model.trim() : 'unknown',
    cores: cpus.length,
    memGB: Math.round(os.totalmem() / 2 ** 30),
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    date: new Date().toISOString(),
  };
}

/** What can run now: audit variants need dist/, mongo also the test server's source. */
function availability() {
  const skipped = {};
  let auditOk = false;
  try {
    const resolved = require.resolve(auditModuleId());
    // Self-reference resolves through package.json "exports" even before the build: check the file.
    auditOk = fs.existsSync(resolved);
  } catch {
    auditOk = false;
  }
  for (const [name, v] of Object.entries(VARIANTS)) {
    if (v.audit && !auditOk) skipped[name] = `${auditModuleId()} not built (dist/index.js missing: run \`npm run build\`)`;
    else if (v.mongo && !fs.existsSync(MONGO_CLI_TS)) skipped[name] = 'test/support/mongo-server/cli.ts missing';
  }
  return skipped;
}

async function main() {
  const args = parseArgs(process.argv.slice(2), KNOWN_OPTIONS);
  if (args.help) {
    console.log(usage());
    return;
  }
  const c = config(args, Object.keys(SCENARIOS));
  const started = Date.now();
  const skipped = availability();
  // A scenario's variants on one framework, as far as --frameworks, --only and the build allow.
  const inRun = (v) => c.frameworks.includes(frameworkOf(v)) && (!c.only || c.only.has(v));
  const selected = (name, framework) => (SCENARIOS[name].variants[framework] || []).filter((v) => inRun(v) && !skipped[v]);
  const problems = [];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eal-bench-'));
  tempDir = dir;
  const ctx = { dir, mongoUri: null, cpuProf: c.cpuProf, problems };
  const results = {
    meta: {
      ...machine(),
      packageVersion: require('../package.json').version,
      auditModule: auditModuleId(),
      quick: c.quick,
      args: process.argv.slice(2),
      config: { ...c, only: c.only ? [...c.only] : null },
      frameworks: Object.fromEntries(c.frameworks.map((f) => [f, FRAMEWORKS[f]])),
      labels: Object.fromEntries(Object.entries(VARIANTS).map(([k, v]) => [k, v.label])),
      skipped: Object.fromEntries(Object.entries(skipped).filter(([k]) => k !== 'file-list' && inRun(k))),
    },
    runs: [],
    list: [],
    audit: [],
    problems,
  };
  let mongo = null;
  try {
    const needsMongo = c.scenarios.some((s) => c.frameworks.some((f) => selected(s, f).some((v) => VARIANTS[v].mongo)));
    if (needsMongo) {
      try {
        mongo = await startMongoServer(problems);
        ctx.mongoUri = mongo.uri;
        ctx.mongoPid = mongo.child.pid;
        console.log(`mongo test server at ${mongo.uri} (pid ${mongo.child.pid})`);
      } catch (err) {
        const why = `test server did not start: ${err.message.split('\n')[0]}`;
        for (const v of Object.keys(VARIANTS).filter((x) => VARIANTS[x].mongo)) {
          skipped[v] = why;
          if (inRun(v)) results.meta.skipped[v] = why;
        }
        problems.push(`mongo: ${why}`);
        console.error(`! ${why}`);
      }
    }
    for (const name of c.scenarios) {
      if (name === 'list') {
        if (skipped['file-list'] || !c.frameworks.includes('express') || (c.only && !c.only.has('file'))) continue;
        const { rows, finishes } = await runList(c, ctx);
        results.list.push(...rows);
        results.audit.push(...finishes);
        continue;
      }
      for (const framework of c.frameworks) {
        const variants = selected(name, framework);
        if (!variants.length) continue;
        for (const ld of SCENARIOS[name].loads(c)) {
          const { runs, finishes } = await runRounds(name, c, ctx, framework, variants, ld);
          results.runs.push(...runs);
          results.audit.push(...finishes);
        }
      }
    }
  } finally {
    if (mongo) mongo.child.kill('SIGTERM');
    fs.rmSync(dir, { recursive: true, force: true });
  }

  // Summaries: measured rounds only. Express's at the top level (its tables predate the other
  // frameworks), Fastify's and Hapi's under summary.frameworks, against their own baseline and logger.
  const measured = results.runs.filter((r) => !r.warmup);
  const ofExpress = measured.filter((r) => (r.framework || 'express') === 'express');
  const summary = {};
  for (const name of ['mixed', 'latency', 'get']) {
    const rs = ofExpress.filter((r) => r.scenario === name);
    if (rs.length) summary[name] = report.summarize(rs, SCENARIOS[name].variants.express);
  }
  const sz = ofExpress.filter((r) => r.scenario === 'sizes');
  if (sz.length) summary.sizes = report.summarize(sz, SCENARIOS.sizes.variants.express, { key: (r) => r.size });
  for (const framework of c.frameworks.filter((f) => f !== 'express')) {
    const { baseline, logger } = FRAMEWORKS[framework];
    const tables = {};
    for (const name of ['mixed', 'get']) {
      const rs = measured.filter((r) => r.framework === framework && r.scenario === name);
      if (rs.length) tables[name] = report.summarize(rs, SCENARIOS[name].variants[framework], { baseline, logger });
    }
    if (!Object.keys(tables).length) continue;
    summary.frameworks = summary.frameworks || {};
    summary.frameworks[framework] = tables;
  }
  if (results.list.length) summary.list = results.list;
  if (summary.latency) summary.latencyRate = c.fixedRate;
  summary.audit = report.auditChecks(results.audit);
  results.summary = summary;
  results.targets = report.targets(summary);
  results.meta.elapsedSeconds = Math.round((Date.now() - started) / 1000);

  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  fs.writeFileSync(path.join(RESULTS_DIR, 'latest.json'), JSON.stringify(results, null, 2) + '\n');
  const md = report.markdown(results);
  fs.writeFileSync(path.join(RESULTS_DIR, 'latest.md'), md);
  console.log('\n' + md);
  console.log(`written bench/results/latest.json and bench/results/latest.md in ${results.meta.elapsedSeconds} s`);

  const bad = summary.audit.filter((a) => !a.ok);
  if (bad.length) {
    const line = '!'.repeat(78);
    console.error(`\n${line}\n!! AUDIT MISMATCH: entries written ≠ mutating requests answered in ${bad.length} child(ren):`);
    for (const b of bad) {
      console.error(
        `!!   ${b.scenario}/${b.variant}: answered ${b.mutatingAnswered}, written ${b.stats?.written}, ` +
          `recorded ${b.stats?.recorded}, failed ${b.stats?.failed}, dropped ${b.stats?.dropped}${b.error ? ', ' + b.error : ''}`,
      );
    }
    console.error(line);
    process.exitCode = 2;
  }
}

main().catch((err) => {
  if (err instanceof UsageError) {
    console.error(`${err.message}\n\n${usage()}`);
    process.exit(2);
  }
  console.error(err && err.stack ? err.stack : err);
  killAll();
  process.exit(1);
});
