#!/usr/bin/env node
'use strict';
/**
 * Runs Hapi's own lab suite (test/*.js) three times: bare; "count" (hook.js preloaded, only its
 * request-counting onRequest ext); "with" (hook.js also registers auditLogHapi in every server).
 * Compares per-test outcomes and checks that every POST/PUT/PATCH/DELETE that reached a server
 * has exactly one correct entry. A change between bare and count is the harness's doing.
 *
 *   node harness/hapi-suite/run.js <hapi-checkout> [--options '<json>'] [--json out.json] [--runs bare,count,with]
 *
 * The checkout needs its devDependencies (`npm install` in it). The plugin comes from this
 * worktree's dist/ (`npm run build` first). Exit code: 0 when nothing differs.
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
const runs = option('--runs', 'bare,count,with').split(',');
const checkout = args[0] && path.resolve(args[0]);
if (!checkout || !fs.existsSync(path.join(checkout, 'lib', 'index.js'))) {
  console.error('usage: node harness/hapi-suite/run.js <hapi-checkout> [--options <json>] [--json <file>] [--runs bare,count,with]');
  process.exit(2);
}
JSON.parse(optionsJson);
const root = path.resolve(__dirname, '..', '..');
const dist = path.join(root, 'dist', 'hapi', 'index.js');
if (!fs.existsSync(dist)) {
  console.error(`${dist} is missing: run \`npm run build\` in ${root} first`);
  process.exit(2);
}
const lab = path.join(checkout, 'node_modules', '@hapi', 'lab', 'bin', 'lab');
if (!fs.existsSync(lab)) {
  console.error(`${lab} is missing: run \`npm install\` in ${checkout} first`);
  process.exit(2);
}
const hapiVersion = JSON.parse(fs.readFileSync(path.join(checkout, 'package.json'), 'utf8')).version;
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'eal-hapi-suite-'));

function runSuite(label) {
  const results = path.join(work, `${label}.json`);
  const reportDir = path.join(work, `${label}-reports`);
  fs.mkdirSync(reportDir);
  const env = { ...process.env, EAL_CHECKOUT: checkout, EAL_DIST: dist, EAL_OPTIONS: optionsJson, EAL_REPORT_DIR: reportDir };
  if (label !== 'bare') {
    env.NODE_OPTIONS = `${process.env.NODE_OPTIONS || ''} --require ${path.join(__dirname, 'hook.js')}`.trim();
    env.EAL_PLUGIN = label === 'with' ? '1' : '0';
  }
  // As `npm test` without coverage, lint and type tests: assertions from @hapi/code, 5 s per test.
  const argv = [lab, '-a', '@hapi/code', '-m', '5000', '-r', 'json', '-o', results];
  const started = Date.now();
  const run = spawnSync(process.execPath, argv, { cwd: checkout, env, encoding: 'utf8', timeout: 20 * 60 * 1000, maxBuffer: 256 * 1024 * 1024 });
  const seconds = Math.round((Date.now() - started) / 1000);
  if (run.error) throw new Error(`${label}: lab did not finish: ${run.error.message}`);
  if (!fs.existsSync(results)) throw new Error(`${label}: lab wrote no results (exit ${run.status}):\n${(run.stderr || run.stdout).slice(-4000)}`);
  const json = JSON.parse(fs.readFileSync(results, 'utf8'));
  const states = new Map();
  const stats = {};
  for (const [suite, tests] of Object.entries(json.tests)) {
    for (const test of tests) {
      const state = test.skip ? 'skipped' : test.todo ? 'todo' : test.err ? 'failed' : 'passed';
      const key = `${suite} :: ${test.title}`;
      if (!states.has(key)) states.set(key, []);
      const error = test.err
        ? String(test.err.message || test.err)
            .split('\n')[0]
            .slice(0, 300)
        : undefined;
      states.get(key).push({ state, error });
      stats[state] = (stats[state] || 0) + 1;
    }
  }
  const reports = fs.readdirSync(reportDir).map((f) => JSON.parse(fs.readFileSync(path.join(reportDir, f), 'utf8')));
  return { label, stats, states, seconds, reports, leaks: json.leaks };
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
    .join(', ')}; leaked globals: ${JSON.stringify(run.leaks || [])} (${run.seconds} s)`;
console.log(`Hapi ${hapiVersion} (${checkout})`);
const done = {};
for (const label of runs) {
  done[label] = runSuite(label);
  console.log(`  ${label.padEnd(6)} ${summarize(done[label])}`);
}
const summary = { hapi: hapiVersion, checkout, options: JSON.parse(optionsJson), runs: {} };
for (const label of runs) summary.runs[label] = { stats: done[label].stats, seconds: done[label].seconds, leaks: done[label].leaks };
let failed = false;
for (const [a, b] of [
  ['bare', 'count'],
  ['count', 'with'],
  ['bare', 'with'],
].filter(([x, y]) => done[x] && done[y])) {
  const differences = compare(done[a], done[b]);
  summary[`${a}->${b}`] = differences;
  console.log(`  tests whose outcome changed ${a} -> ${b}: ${differences.length}`);
  for (const d of differences) console.log(`    - ${d.test}: ${d[a]} -> ${d[b]}${d.error ? ` (${d.error})` : ''}`);
  if (differences.length > 0 && b === 'with') failed = true;
}
const report = done.with && done.with.reports[0];
if (done.with && !report) {
  console.log('  with: the hook wrote no report');
  failed = true;
}
if (report) {
  const kinds = {};
  for (const p of report.problems) kinds[p.kind] = (kinds[p.kind] || 0) + 1;
  console.log(
    `  with: servers created: ${report.apps} (plugin registered in ${report.appsWithAudit}, register failed in ${report.registerFailures.length}); mutating requests that reached a server: ${report.mutatingRequests} (through onRequest: ${report.reachedOnRequest}; answered before onRequest: ${report.notReachingOnRequest.length}); entries built: ${report.entries} (stored before lab exited: ${report.entriesStored})`,
  );
  console.log(
    `  requests with a problem: ${report.problems.length} ${JSON.stringify(kinds)}; entries matching no request: ${report.orphanEntries.length}; logged by the plugin: ${report.logged.length}`,
  );
  const shown = new Map();
  for (const p of report.problems) {
    const key = `${p.kind}: ${(p.wrong || []).map((w) => w.replace(/".*?"|\d+/g, '…')).join('; ')}`;
    if (!shown.has(key)) shown.set(key, []);
    shown.get(key).push(p);
  }
  for (const [key, list] of shown) {
    console.log(`    - ${list.length} x ${key}`);
    for (const p of list.slice(0, 4))
      console.log(
        `        e.g. ${p.createdAt}: ${p.request} (${p.via}) -> ${p.answered}${p.finished ? '' : ' (not finished)'}${p.wrong ? `: ${p.wrong.join('; ')}` : ''}`,
      );
  }
  for (const o of report.orphanEntries.slice(0, 5)) console.log(`    orphan entry (server at ${o.createdAt}): ${JSON.stringify(o.entry)}`);
  for (const l of report.logged.slice(0, 10)) console.log(`    logged (${l.level}, server at ${l.createdAt}): ${l.message.slice(0, 200)}`);
  for (const r of report.registerFailures.slice(0, 5)) console.log(`    register failed (server at ${r.createdAt}): ${r.message}`);
  if (report.problems.length > 0 || report.orphanEntries.length > 0 || report.logged.length > 0) failed = true;
  summary.report = report;
}
if (jsonOut) fs.writeFileSync(jsonOut, JSON.stringify(summary, null, 2));
console.log(`  details: ${work}${jsonOut ? `, ${jsonOut}` : ''}`);
process.exit(failed ? 1 : 0);
