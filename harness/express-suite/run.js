#!/usr/bin/env node
'use strict';
/**
 * Runs Express's own test suite bare, then with express-audit-log inserted into every app it
 * creates (hook.js), and compares: the same tests must pass and fail, and every mutating
 * request that reached an app must give exactly one correct entry.
 *
 *   node harness/express-suite/run.js <express-checkout> [--mode first|last|both] [--options '<json>'] [--json out.json]
 *
 * The checkout needs its devDependencies installed (`npm install` in it). The package is used
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
const modeArg = option('--mode', 'both');
const optionsJson = option('--options', '{}');
const jsonOut = option('--json', null);
const checkout = args[0] && path.resolve(args[0]);
if (!checkout || !fs.existsSync(path.join(checkout, 'lib', 'express.js'))) {
  console.error(
    'usage: node harness/express-suite/run.js <express-checkout> [--mode first|last|both] [--options <json>] [--json <file>]\n(the checkout must contain lib/express.js and its node_modules)',
  );
  process.exit(2);
}
if (!['first', 'last', 'both'].includes(modeArg)) {
  console.error(`--mode must be first, last or both, not ${JSON.stringify(modeArg)}`);
  process.exit(2);
}
JSON.parse(optionsJson); // fail early on bad JSON
const root = path.resolve(__dirname, '..', '..');
const dist = path.join(root, 'dist', 'index.js');
if (!fs.existsSync(dist)) {
  console.error(`${dist} is missing: run \`npm run build\` in ${root} first`);
  process.exit(2);
}
const mocha = path.join(checkout, 'node_modules', 'mocha', 'bin', 'mocha.js');
if (!fs.existsSync(mocha)) {
  console.error(`${mocha} is missing: run \`npm install\` in ${checkout} first`);
  process.exit(2);
}
const expressVersion = JSON.parse(fs.readFileSync(path.join(checkout, 'package.json'), 'utf8')).version;
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'eal-express-suite-'));

/** One mocha run of the whole suite; returns the per-test states and, for "with" runs, the hook's report. */
function runSuite(label, mode) {
  const results = path.join(work, `${label}.json`);
  const report = path.join(work, `${label}-report.json`);
  const argv = [mocha, '--require', 'test/support/env', '--check-leaks', '--reporter', 'json', '--reporter-option', `output=${results}`];
  if (mode) argv.push('--require', path.join(__dirname, 'hook.js'));
  argv.push('test/', 'test/acceptance/');
  const env = { ...process.env, EAL_DIST: dist, EAL_CHECKOUT: checkout, EAL_MODE: mode || '', EAL_OPTIONS: optionsJson, EAL_REPORT: report };
  const run = spawnSync(process.execPath, argv, { cwd: checkout, env, encoding: 'utf8', timeout: 300000, maxBuffer: 64 * 1024 * 1024 });
  if (run.error) throw new Error(`${label}: mocha did not finish: ${run.error.message}`);
  if (!fs.existsSync(results)) throw new Error(`${label}: mocha wrote no results (exit ${run.status}):\n${run.stderr.slice(-4000)}`);
  const json = JSON.parse(fs.readFileSync(results, 'utf8'));
  const states = new Map();
  const add = (test, state) => {
    const title = test.fullTitle;
    if (!states.has(title)) states.set(title, []);
    states.get(title).push({ state, error: test.err && test.err.message ? test.err.message.split('\n')[0] : undefined });
  };
  for (const test of json.passes) add(test, 'passed');
  for (const test of json.failures) add(test, 'failed');
  for (const test of json.pending) add(test, 'pending');
  return {
    label,
    stats: json.stats,
    states,
    stderr: run.stderr,
    report: mode && fs.existsSync(report) ? JSON.parse(fs.readFileSync(report, 'utf8')) : null,
  };
}

function compare(bare, withAudit) {
  const differences = [];
  const titles = new Set([...bare.states.keys(), ...withAudit.states.keys()]);
  for (const title of titles) {
    const a = (bare.states.get(title) || []).map((s) => s.state).join(',') || 'absent';
    const b = (withAudit.states.get(title) || []).map((s) => s.state).join(',') || 'absent';
    if (a !== b) differences.push({ test: title, bare: a, with: b, error: (withAudit.states.get(title) || []).map((s) => s.error).filter(Boolean)[0] });
  }
  return differences;
}

function summarize(stats) {
  return `${stats.passes} passed, ${stats.failures} failed, ${stats.pending} pending`;
}

const bare = runSuite('bare', null);
const modes = modeArg === 'both' ? ['first', 'last'] : [modeArg];
const summary = { express: expressVersion, checkout, options: JSON.parse(optionsJson), bare: bare.stats, runs: [] };
console.log(`Express ${expressVersion} (${checkout})`);
console.log(`  bare:            ${summarize(bare.stats)}`);
let failed = false;
for (const mode of modes) {
  const run = runSuite(`with-${mode}`, mode);
  const differences = compare(bare, run);
  const report = run.report;
  console.log(`  with (${mode.padEnd(5)}):    ${summarize(run.stats)}`);
  console.log(`    tests whose outcome changed: ${differences.length}`);
  for (const d of differences) console.log(`      - ${d.test}: ${d.bare} -> ${d.with}${d.error ? ` (${d.error})` : ''}`);
  if (!report) {
    console.log("    the hook wrote no report (the run ended before mocha's root afterAll):");
    console.log(
      run.stderr
        .split('\n')
        .slice(-20)
        .map((l) => `      ${l}`)
        .join('\n'),
    );
    failed = true;
    summary.runs.push({ mode, stats: run.stats, differences, report: null });
    continue;
  }
  const kinds = {};
  for (const p of report.problems) kinds[p.kind] = (kinds[p.kind] || 0) + 1;
  console.log(
    `    apps created: ${report.apps}; mutating requests that reached an app: ${report.mutatingRequests} (answered before reaching the middleware, so rightly unrecorded: ${report.notReachingTheMiddleware.length}); entries recorded: ${report.entries}`,
  );
  console.log(
    `    requests with a problem: ${report.problems.length} ${JSON.stringify(kinds)}; entries matching no request: ${report.orphanEntries.length}; audit 'error' events: ${report.auditErrors.length}`,
  );
  const shown = new Map();
  for (const p of report.problems) {
    const key = `${p.kind}: ${(p.wrong || []).map((w) => w.replace(/".*?"/g, '…')).join('; ')}`;
    if (!shown.has(key)) shown.set(key, []);
    shown.get(key).push(p);
  }
  for (const [key, list] of shown) {
    console.log(`      - ${list.length} x ${key}`);
    for (const p of list.slice(0, 3))
      console.log(
        `          e.g. ${p.request} -> ${p.answered}${p.finished ? '' : ' (not finished)'} in "${p.test}"${p.wrong ? `: ${p.wrong.join('; ')}` : ''}`,
      );
  }
  for (const e of report.auditErrors.slice(0, 5)) console.log(`      audit error ${e.code} in "${e.test}": ${e.message}`);
  if (differences.length > 0 || report.problems.length > 0 || report.orphanEntries.length > 0 || report.auditErrors.length > 0) failed = true;
  summary.runs.push({ mode, stats: run.stats, differences, report });
}
if (jsonOut) fs.writeFileSync(jsonOut, JSON.stringify(summary, null, 2));
console.log(`  details: ${work}${jsonOut ? `, ${jsonOut}` : ''}`);
process.exit(failed ? 1 : 0);
