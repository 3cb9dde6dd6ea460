#!/usr/bin/env node
'use strict';
/**
 * Runs Hapi's own test suite (lab) three times: bare; with hook.js observing only (the harness's
 * own patches, no plugin: must change nothing); and with the audit plugin registered first on
 * every server. Compares per-test outcomes, triages the differences against expected.js (tests
 * that observe the plugin's legitimate presence), and checks that every mutating request that
 * reached a server got exactly one correct entry.
 *
 *   node harness/hapi-suite/run.js <hapi-checkout> [--options '<json>'] [--json out.json] [--mode first|last|both] [--grep <lab -g pattern>] [--leaks]
 *
 * The checkout needs its devDependencies (`npm install` in it). The plugin is used from this
 * worktree's dist/ (`npm run build` first). Lab's coverage (-t) and lint (-L) are not enabled and
 * its global-leak check is off (-l) unless --leaks, the same for all runs. Exit code: 0 when nothing
 * unexplained differs and every entry is right.
 */
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const expected = require('./expected');

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
const grep = option('--grep', null);
const modeArg = option('--mode', 'both');
if (!['first', 'last', 'both'].includes(modeArg)) {
  console.error(`--mode must be first, last or both, not ${JSON.stringify(modeArg)}`);
  process.exit(2);
}
const modes = modeArg === 'both' ? ['first', 'last'] : [modeArg];
const leaksAt = args.indexOf('--leaks');
const leaks = leaksAt !== -1; // lab's global-leak check on, for every run
if (leaks) args.splice(leaksAt, 1);
const checkout = args[0] && path.resolve(args[0]);
if (!checkout || !fs.existsSync(path.join(checkout, 'lib', 'server.js'))) {
  console.error('usage: node harness/hapi-suite/run.js <hapi-checkout> [--options <json>] [--json <file>] [--grep <pattern>]');
  process.exit(2);
}
JSON.parse(optionsJson); // fail early on bad JSON
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

/** One lab run of the whole suite: per-test outcomes and, with the hook, its report. */
function runSuite(label, hook, plugin, only = grep, mode = 'first') {
  const results = path.join(work, `${label}.json`);
  const report = path.join(work, `${label}-report.json`);
  const argv = [];
  if (hook) argv.push('--require', path.join(__dirname, 'hook.js'));
  // Hapi's own script is `lab -a @hapi/code -t 100 -L -m 5000 -Y`: the same without coverage, lint and types, leak check off.
  argv.push(lab, '-a', '@hapi/code', '-m', '5000', '-r', 'json', '-o', results);
  if (!leaks) argv.push('-l');
  if (only) argv.push('-g', only);
  const env = {
    ...process.env,
    EAL_CHECKOUT: checkout,
    EAL_DIST: dist,
    EAL_PLUGIN: plugin ? '1' : '0',
    EAL_MODE: mode,
    EAL_OPTIONS: optionsJson,
    EAL_REPORT: report,
  };
  const run = spawnSync(process.execPath, argv, { cwd: checkout, env, encoding: 'utf8', timeout: 600000, maxBuffer: 64 * 1024 * 1024 });
  if (run.error) throw new Error(`${label}: lab did not finish: ${run.error.message}`);
  if (!fs.existsSync(results)) throw new Error(`${label}: lab wrote no results (exit ${run.status}):\n${(run.stderr + run.stdout).slice(-4000)}`);
  const json = JSON.parse(fs.readFileSync(results, 'utf8'));
  const states = new Map();
  const stats = { tests: 0, passed: 0, failed: 0, skipped: 0 };
  for (const [group, tests] of Object.entries(json.tests)) {
    for (const test of tests) {
      const title = `${group} :: ${test.title}`;
      const state = test.err ? 'failed' : test.skipped || test.todo ? 'skipped' : 'passed';
      stats.tests++;
      stats[state]++;
      if (!states.has(title)) states.set(title, []);
      states.get(title).push({ state, error: test.err ? String(test.err) : undefined });
    }
  }
  return {
    label,
    stats,
    states,
    errors: (json.errors || []).map((e) => e.message),
    leaks: json.leaks || [],
    exit: run.status,
    stderr: run.stderr,
    report: hook && fs.existsSync(report) ? JSON.parse(fs.readFileSync(report, 'utf8')) : null,
  };
}

function compare(before, after) {
  const differences = [];
  for (const title of new Set([...before.states.keys(), ...after.states.keys()])) {
    const a = (before.states.get(title) || []).map((s) => s.state).join(',') || 'absent';
    const b = (after.states.get(title) || []).map((s) => s.state).join(',') || 'absent';
    if (a !== b) differences.push({ test: title, before: a, after: b, error: (after.states.get(title) || []).map((s) => s.error).filter(Boolean)[0] });
  }
  return differences;
}
const firstLine = (error) => (error ? ` (${error.split('\n')[0]})` : '');

const summarize = (s) => `${s.tests} tests: ${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped`;
const bare = runSuite('bare', false, false);
const observe = runSuite('observe', true, false);

/** Lab's -g pattern for one test: its full title is the describe titles and its own, joined by spaces. */
function titlePattern(test) {
  const [group, title] = test.split(' :: ');
  const quote = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return `^${group.split('/').map(quote).join('[ /]')} ${quote(title)}$`;
}

/**
 * A difference the lists do not explain is run again alone, RERUNS times bare and with the
 * plugin (or the harness only): when its outcome also varies bare, it is a flaky test; when it
 * never differs alone, it is reported as not reproduced; else it is a finding.
 */
const RERUNS = 3;
function rerun(d, plugin, mode) {
  const outcomes = { bare: [], with: [] };
  for (let i = 0; i < RERUNS; i++) {
    outcomes.bare.push(
      [...runSuite(`rerun-bare-${i}`, false, false, titlePattern(d.test)).states.values()]
        .flat()
        .map((s) => s.state)
        .join(',') || 'absent',
    );
    outcomes.with.push(
      [...runSuite(`rerun-with-${i}`, true, plugin, titlePattern(d.test), mode).states.values()]
        .flat()
        .map((s) => s.state)
        .join(',') || 'absent',
    );
  }
  return outcomes;
}

function triage(list, excusable, mode, report) {
  const explained = [];
  const flaky = [];
  const notReproduced = [];
  const unexplained = [];
  for (const d of list) {
    const reason = expected.reasonFor(d.test, d.error, { pluginRoutes: report ? report.pluginRoutes : null });
    if (excusable && reason && d.after === 'failed') {
      explained.push({ ...d, reason });
      continue;
    }
    const known = expected.flakyReason(d.test, d.error || (bare.states.get(d.test) || []).map((s) => s.error).filter(Boolean)[0]);
    if (known) {
      flaky.push({ ...d, summary: `known flaky: ${known}` });
      continue;
    }
    const outcomes = rerun(d, excusable, mode);
    const seen = (states) => [...new Set(states)].join('/');
    const summary = `alone ${RERUNS}x: bare ${seen(outcomes.bare)}, with ${seen(outcomes.with)}`;
    if (new Set([d.before, ...outcomes.bare]).size > 1) flaky.push({ ...d, outcomes, summary });
    else if (outcomes.with.every((o) => o === d.before)) notReproduced.push({ ...d, outcomes, summary });
    else unexplained.push({ ...d, outcomes, summary });
  }
  return { explained, flaky, notReproduced, unexplained };
}

const artefactsAll = triage(compare(bare, observe), false); // nothing excuses the harness itself
const artefacts = [...artefactsAll.unexplained, ...artefactsAll.notReproduced];
console.log(`Hapi ${hapiVersion} (${checkout}); lab without coverage/lint/types, leak check ${leaks ? 'on' : 'off (-l)'}`);
console.log(
  `  bare:                ${summarize(bare.stats)}${bare.errors.length ? `; lab errors: ${bare.errors.length}` : ''}${leaks ? `; leaked globals: ${JSON.stringify(bare.leaks)}` : ''}`,
);
console.log(
  `  harness only:        ${summarize(observe.stats)}; outcome changes: ${artefacts.length} (+ ${artefactsAll.flaky.length} flaky)${leaks ? `; leaked globals: ${JSON.stringify(observe.leaks)}` : ''}`,
);
for (const d of artefacts) console.log(`    ! ${d.test}: ${d.before} -> ${d.after}${firstLine(d.error)}`);
for (const d of artefactsAll.flaky) console.log(`    ~ flaky: ${d.test}: ${d.before} -> ${d.after} (${d.summary})`);
let failed = artefacts.length > 0;
const summary = { hapi: hapiVersion, checkout, options: JSON.parse(optionsJson), bare: bare.stats, observe: observe.stats, artefacts, runs: [] };

for (const mode of modes) {
  const withPlugin = runSuite(`with-${mode}`, true, true, grep, mode);
  const report = withPlugin.report;
  const differences = compare(bare, withPlugin);
  const { explained, flaky, notReproduced, unexplained } = triage(differences, true, mode, report);
  // Only meaningful on the whole suite with the plugin first (registered later, it is not in the tables the tests read before).
  const unusedExpectations = grep || mode !== 'first' ? [] : expected.list.filter((e) => !differences.some((d) => expected.matches(e, d.test)));
  console.log(
    `  with the plugin ${mode === 'first' ? '(registered first)' : '(registered at the first initialize/start/inject)'}: ${summarize(withPlugin.stats)}${withPlugin.errors.length ? `; lab errors: ${withPlugin.errors.length}` : ''}${leaks ? `; leaked globals: ${JSON.stringify(withPlugin.leaks)}` : ''}`,
  );
  console.log(
    `    outcome changes: ${differences.length} (the plugin's presence, expected.js: ${explained.length}; flaky without the plugin too: ${flaky.length}; not reproduced alone: ${notReproduced.length}; unexplained: ${unexplained.length})`,
  );
  for (const d of explained) console.log(`      = ${d.test}: ${d.before} -> ${d.after} [${d.reason}]`);
  for (const d of flaky) console.log(`      ~ flaky: ${d.test}: ${d.before} -> ${d.after} (${d.summary})`);
  for (const d of notReproduced) console.log(`      ? not reproduced alone: ${d.test}: ${d.before} -> ${d.after}${firstLine(d.error)} (${d.summary})`);
  for (const d of unexplained) console.log(`      ! ${d.test}: ${d.before} -> ${d.after}${firstLine(d.error)} (${d.summary})`);
  for (const e of unusedExpectations) console.log(`      (expected.js lists "${e.test}", which did not change here)`);
  for (const e of withPlugin.errors) console.log(`      lab error: ${e}`);
  if (unexplained.length > 0 || withPlugin.errors.length > bare.errors.length) failed = true;
  summary.runs.push({ mode, stats: withPlugin.stats, explained, flaky, notReproduced, unexplained, report });
  if (!report) {
    console.log('    the hook wrote no report:');
    console.log(
      withPlugin.stderr
        .split('\n')
        .slice(-20)
        .map((l) => `      ${l}`)
        .join('\n'),
    );
    failed = true;
    continue;
  }
  const kinds = {};
  for (const p of report.problems) kinds[p.kind] = (kinds[p.kind] || 0) + 1;
  console.log(
    `    servers: ${report.servers} (the plugin adds ${report.pluginRoutes} routes to each); requests: ${report.requests}; mutating requests the plugin had to record: ${report.mutatingRequests} (${report.injectedMutatingRequests} by server.inject, ${report.mutatingRequestsWithRouteParams} with route params; answered before reaching the plugin, rightly unrecorded: ${report.notReachingThePlugin.length}); entries: ${report.entries}`,
  );
  console.log(
    `    requests with a problem: ${report.problems.length} ${JSON.stringify(kinds)}; entries matching no request: ${report.orphanEntries.length}; audit 'error' events: ${report.auditErrors.length}; registration failures: ${report.registrationFailures.length} (the test's doing, expected.js: ${report.registrationFailures.filter((f) => expected.registrationReason(f.test, f.message)).length}); flush problems: ${report.flushProblems.length}`,
  );
  const shown = new Map();
  for (const p of report.problems) {
    const key = `${p.kind}: ${(p.wrong || []).map((w) => w.replace(/".*?"|\d+/g, '…')).join('; ')}`;
    if (!shown.has(key)) shown.set(key, []);
    shown.get(key).push(p);
  }
  for (const [key, list] of shown) {
    console.log(`      - ${list.length} x ${key}`);
    for (const p of list.slice(0, 4))
      console.log(
        `          e.g. ${p.request} -> ${p.answered}${p.finished ? '' : ' (not finished)'} route ${p.route} in "${p.test}"${p.wrong ? `: ${p.wrong.join('; ')}` : ''}`,
      );
  }
  const errorKinds = new Map();
  for (const e of report.auditErrors) {
    const key = `${e.code}: ${e.message}`;
    errorKinds.set(key, [...(errorKinds.get(key) || []), e]);
  }
  for (const [key, list] of errorKinds) console.log(`      audit error x${list.length} ${key} (e.g. "${list[0].test}")`);
  const excusedRegistrations = report.registrationFailures.filter((f) => expected.registrationReason(f.test, f.message));
  const failedRegistrations = report.registrationFailures.filter((f) => !expected.registrationReason(f.test, f.message));
  for (const f of excusedRegistrations)
    console.log(`      = registration failed in "${f.test}": ${f.message} [${expected.registrationReason(f.test, f.message)}]`);
  for (const f of failedRegistrations.slice(0, 5)) console.log(`      ! registration failed in "${f.test}": ${f.message}`);
  for (const f of report.flushProblems.slice(0, 5)) console.log(`      flush: ${f.message} (server from "${f.test}")`);
  for (const o of report.orphanEntries.slice(0, 5)) console.log(`      orphan entry: ${JSON.stringify(o.entry)}`);
  if (report.problems.length || report.orphanEntries.length || report.auditErrors.length || failedRegistrations.length || report.flushProblems.length)
    failed = true;
}
if (jsonOut) fs.writeFileSync(jsonOut, JSON.stringify(summary, null, 2));
console.log(`  details: ${work}${jsonOut ? `, ${jsonOut}` : ''}`);
process.exit(failed ? 1 : 0);
