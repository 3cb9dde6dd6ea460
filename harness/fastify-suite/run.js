#!/usr/bin/env node
'use strict';
/**
 * Runs Fastify's own test suite (node:test, the files borp runs: test/**\/*.test.{js,mjs}) three
 * times: bare; "count" (hook.js preloaded, only its request-counting onRequest hook); "with"
 * (hook.js also registers auditLogFastify in every instance). Compares the per-test outcomes
 * and checks that every POST/PUT/PATCH/DELETE that reached an app has exactly one correct entry.
 * A test that changes between bare and count is the harness's doing, not the plugin's.
 *
 *   node harness/fastify-suite/run.js <fastify-checkout> [--options '<json>'] [--json out.json] [--files <regexp>] [--runs bare,count,with]
 *
 * The checkout needs its devDependencies installed (`npm install` in it). The plugin is used
 * from this worktree's dist/ (run `npm run build` first). Exit code: 0 when nothing differs.
 */
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const args = process.argv.slice(2);
function option(name, fallback) {
  const at = args.indexOf(name);
  if (at === -1) return fallback;
  const value = args[at + 1];
  args.splice(at, 2);
  return value;
}
const optionsJson = option('--options', '{}');
const jsonOut = option('--json', null);
const filesPattern = new RegExp(option('--files', '.'));
const runs = option('--runs', 'bare,count,with').split(',');
const concurrency = option('--concurrency', '2');
const checkout = args[0] && path.resolve(args[0]);
if (!checkout || !fs.existsSync(path.join(checkout, 'fastify.js'))) {
  console.error('usage: node harness/fastify-suite/run.js <fastify-checkout> [--options <json>] [--json <file>] [--files <regexp>] [--runs bare,count,with]');
  process.exit(2);
}
JSON.parse(optionsJson); // fail early on bad JSON
const root = path.resolve(__dirname, '..', '..');
const dist = path.join(root, 'dist', 'fastify', 'index.js');
if (!fs.existsSync(dist)) {
  console.error(`${dist} is missing: run \`npm run build\` in ${root} first`);
  process.exit(2);
}
const fastifyVersion = JSON.parse(fs.readFileSync(path.join(checkout, 'package.json'), 'utf8')).version;
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'eal-fastify-suite-'));

function testFiles(dir) {
  const found = [];
  for (const name of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, name.name);
    if (name.isDirectory()) {
      if (name.name !== 'node_modules') found.push(...testFiles(full));
    } else if (/\.test\.m?js$/.test(name.name)) found.push(full);
  }
  return found;
}
const files = testFiles(path.join(checkout, 'test'))
  .map((f) => path.relative(checkout, f))
  .filter((f) => filesPattern.test(f))
  .sort();

/** One `node --test` run of the files; per-test states and, with the hook, its per-process reports. */
function runSuite(label) {
  const results = path.join(work, `${label}.jsonl`);
  const reportDir = path.join(work, `${label}-reports`);
  fs.mkdirSync(reportDir);
  const env = { ...process.env, EAL_CHECKOUT: checkout, EAL_DIST: dist, EAL_OPTIONS: optionsJson, EAL_REPORT_DIR: reportDir };
  if (label !== 'bare') {
    env.NODE_OPTIONS = `${process.env.NODE_OPTIONS || ''} --require ${path.join(__dirname, 'hook.js')}`.trim();
    env.EAL_PLUGIN = label === 'with' ? '1' : '0';
  }
  const argv = [
    '--test',
    `--test-concurrency=${concurrency}`,
    '--test-timeout=60000',
    `--test-reporter=${path.join(__dirname, 'reporter.mjs')}`,
    `--test-reporter-destination=${results}`,
    ...files,
  ];
  const started = Date.now();
  const run = spawnSync(process.execPath, argv, { cwd: checkout, env, encoding: 'utf8', timeout: 20 * 60 * 1000, maxBuffer: 256 * 1024 * 1024 });
  const seconds = Math.round((Date.now() - started) / 1000);
  if (run.error) throw new Error(`${label}: node --test did not finish: ${run.error.message}`);
  const states = new Map();
  const stats = {};
  for (const line of fs.readFileSync(results, 'utf8').split('\n')) {
    if (!line) continue;
    const test = JSON.parse(line);
    if (test.subtests && test.state === 'passed') continue; // a suite: its tests are counted
    const key = `${path.relative(checkout, test.file)} :: ${test.title}`;
    if (!states.has(key)) states.set(key, []);
    states.get(key).push({ state: test.state, error: test.error });
    stats[test.state] = (stats[test.state] || 0) + 1;
  }
  const reports = fs.readdirSync(reportDir).map((f) => JSON.parse(fs.readFileSync(path.join(reportDir, f), 'utf8')));
  return { label, stats, states, seconds, reports };
}

function compare(a, b) {
  const differences = [];
  for (const key of new Set([...a.states.keys(), ...b.states.keys()])) {
    const x = (a.states.get(key) || []).map((s) => s.state).join(',') || 'absent';
    const y = (b.states.get(key) || []).map((s) => s.state).join(',') || 'absent';
    if (x !== y) differences.push({ test: key, [a.label]: x, [b.label]: y, error: (b.states.get(key) || []).map((s) => s.error).filter(Boolean)[0] });
  }
  return differences.sort((p, q) => p.test.localeCompare(q.test));
}

const summarize = (run) =>
  `${Object.entries(run.stats)
    .map(([k, v]) => `${v} ${k}`)
    .join(', ')} (${run.seconds} s)`;
console.log(`Fastify ${fastifyVersion} (${checkout}), ${files.length} test files`);
const done = {};
for (const label of runs) {
  done[label] = runSuite(label);
  console.log(`  ${label.padEnd(6)} ${summarize(done[label])}`);
}
const summary = { fastify: fastifyVersion, checkout, files: files.length, options: JSON.parse(optionsJson), runs: {} };
let failed = false;
for (const label of runs) summary.runs[label] = { stats: done[label].stats, seconds: done[label].seconds };
const pairs = [
  ['bare', 'count'],
  ['count', 'with'],
  ['bare', 'with'],
].filter(([a, b]) => done[a] && done[b]);
for (const [a, b] of pairs) {
  const differences = compare(done[a], done[b]);
  summary[`${a}->${b}`] = differences;
  console.log(`  tests whose outcome changed ${a} -> ${b}: ${differences.length}`);
  for (const d of differences) console.log(`    - ${d.test}: ${d[a]} -> ${d[b]}${d.error ? ` (${d.error})` : ''}`);
  if (differences.length > 0 && b === 'with') failed = true;
}
const withRun = done.with;
if (withRun) {
  const reports = withRun.reports;
  const total = (key) => reports.reduce((sum, r) => sum + r[key], 0);
  const problems = reports.flatMap((r) => r.problems.map((p) => ({ file: path.relative(checkout, r.file), ...p })));
  const orphans = reports.flatMap((r) => r.orphanEntries.map((o) => ({ file: path.relative(checkout, r.file), ...o })));
  const notReached = reports.flatMap((r) => r.notReachingOnRequest.map((o) => ({ file: path.relative(checkout, r.file), ...o })));
  const logged = reports.flatMap((r) => r.logged.map((o) => ({ file: path.relative(checkout, r.file), ...o })));
  const neverAnswered = reports.flatMap((r) => (r.neverAnswered || []).map((o) => ({ file: path.relative(checkout, r.file), ...o })));
  const unflushed = reports.filter((r) => !r.flushed).map((r) => path.relative(checkout, r.file));
  console.log(
    `  with: ${reports.length} processes reported; apps created: ${total('apps')} (plugin ran in ${total('appsWithAudit')}); mutating requests that reached an app: ${total('mutatingRequests')} (through onRequest: ${total('reachedOnRequest')}; answered before onRequest, so rightly unrecorded: ${notReached.length}; never answered by the app, so nothing to record: ${neverAnswered.length}); entries: ${total('entries')}`,
  );
  const kinds = {};
  for (const p of problems) kinds[p.kind] = (kinds[p.kind] || 0) + 1;
  console.log(
    `  requests with a problem: ${problems.length} ${JSON.stringify(kinds)}; entries matching no request: ${orphans.length}; logged by the plugin: ${logged.length}; processes that exited before the last flush: ${unflushed.length}`,
  );
  const shown = new Map();
  for (const p of problems) {
    const key = `${p.kind}: ${(p.wrong || []).map((w) => w.replace(/".*?"|\d+/g, '…')).join('; ')}`;
    if (!shown.has(key)) shown.set(key, []);
    shown.get(key).push(p);
  }
  for (const [key, list] of shown) {
    console.log(`    - ${list.length} x ${key}`);
    for (const p of list.slice(0, 4))
      console.log(
        `        e.g. ${p.createdAt || p.file}: ${p.request} (${p.via}) -> ${p.answered}${p.finished ? '' : ' (not finished)'}${p.wrong ? `: ${p.wrong.join('; ')}` : ''}`,
      );
  }
  for (const o of orphans.slice(0, 5)) console.log(`    orphan entry in ${o.file}: ${JSON.stringify(o.entry)}`);
  for (const l of logged.slice(0, 10)) console.log(`    logged (${l.level}) in ${l.file}: ${l.message.slice(0, 200)}`);
  for (const f of unflushed.slice(0, 10)) console.log(`    exited before the last flush: ${f}`);
  if (problems.length > 0 || orphans.length > 0 || logged.length > 0) failed = true;
  Object.assign(summary, {
    problems,
    orphans,
    notReached,
    logged,
    unflushed,
    totals: {
      apps: total('apps'),
      appsWithAudit: total('appsWithAudit'),
      mutatingRequests: total('mutatingRequests'),
      reachedOnRequest: total('reachedOnRequest'),
      entries: total('entries'),
    },
  });
}
if (jsonOut) fs.writeFileSync(jsonOut, JSON.stringify(summary, null, 2));
console.log(`  details: ${work}${jsonOut ? `, ${jsonOut}` : ''}`);
process.exit(failed ? 1 : 0);
