#!/usr/bin/env node
'use strict';
/**
 * Runs a real open-source Express + mongoose API's own jest suite (hagopj13/node-express-boilerplate)
 * bare, then with express-audit-log's one line added to its app file, against this project's
 * MongoDB wire-protocol test server, and compares per test; then checks one correct entry per
 * mutating request (jest-setup.js).
 *
 *   node harness/real-app/run.js [<app-git-dir>] [--app node-express-boilerplate|node-express-mongoose-typescript-boilerplate]
 *                                [--ref HEAD] [--work DIR] [--store memory|file|default] [--options '<json>'] [--json out.json] [--fresh]
 *
 * --app picks the app's profile in apps/ (default node-express-boilerplate). <app-git-dir>: the
 * repository as the fetch tool brings it (a bare git dir; default: the profile's mirror path) or a
 * plain checkout. The app is copied to --work (default: $TMPDIR/eal-real-app-<app>), its dependencies installed once (reused while the
 * ref is the same), this worktree's package packed (`npm pack`; run `npm run build` first) and
 * installed into it. Exit code 0 when nothing differs.
 */
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { startMongoServer } = require('./mongo-server');

const args = process.argv.slice(2);
function option(name, fallback) {
  const at = args.indexOf(name);
  if (at === -1) return fallback;
  const value = args[at + 1];
  args.splice(at, 2);
  return value;
}
function flag(name) {
  const at = args.indexOf(name);
  if (at === -1) return false;
  args.splice(at, 1);
  return true;
}
const appName = option('--app', 'node-express-boilerplate');
const profileFile = path.join(__dirname, 'apps', `${appName}.js`);
if (!fs.existsSync(profileFile)) {
  console.error(
    `--app: no profile ${profileFile}; there are: ${fs
      .readdirSync(path.join(__dirname, 'apps'))
      .map((f) => f.replace(/\.js$/, ''))
      .join(', ')}`,
  );
  process.exit(2);
}
const profile = require(profileFile);
const ref = option('--ref', 'HEAD');
const work = path.resolve(option('--work', path.join(os.tmpdir(), `eal-real-app-${appName}`)));
const store = option('--store', 'memory');
const optionsJson = option('--options', '{}');
const jsonOut = option('--json', null);
const fresh = flag('--fresh');
const source = path.resolve(args[0] || profile.mirror);
if (!fs.existsSync(source)) {
  console.error(`${source} does not exist: bring the app with the fetch tool (github:${profile.name}) or give its git dir`);
  console.error(
    'usage: node harness/real-app/run.js [<app-git-dir>] [--app <name>] [--ref HEAD] [--work DIR] [--store memory|file|default] [--options <json>] [--json <file>] [--fresh]',
  );
  process.exit(2);
}
if (!['memory', 'file', 'default'].includes(store)) {
  console.error(`--store must be memory, file or default, not ${JSON.stringify(store)}`);
  process.exit(2);
}
JSON.parse(optionsJson);
const root = path.resolve(__dirname, '..', '..');
if (!fs.existsSync(path.join(root, 'dist', 'index.js'))) {
  console.error(`${path.join(root, 'dist', 'index.js')} is missing: run \`npm run build\` in ${root} first`);
  process.exit(2);
}

function sh(command, argv, options = {}) {
  const run = spawnSync(command, argv, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...options });
  if (run.error) throw run.error;
  return run;
}
function must(run, what) {
  if (run.status !== 0) throw new Error(`${what} failed (exit ${run.status}):\n${(run.stderr || '').slice(-3000)}${(run.stdout || '').slice(-2000)}`);
  return run;
}

/** The app's files at `ref`, its dependencies installed; reused when already there for the same commit. */
function prepareApp() {
  const appDir = path.join(work, 'app');
  const isGitDir = fs.existsSync(path.join(source, 'HEAD')) && fs.existsSync(path.join(source, 'objects'));
  const gitArgs = isGitDir ? ['--git-dir', source] : ['-C', source];
  const commit = must(sh('git', [...gitArgs, 'rev-parse', ref]), 'git rev-parse').stdout.trim();
  const stamp = path.join(work, 'commit');
  if (!fresh && fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === commit && fs.existsSync(path.join(appDir, 'node_modules')))
    return { appDir, commit };
  fs.rmSync(work, { recursive: true, force: true });
  fs.mkdirSync(appDir, { recursive: true });
  const archive = must(sh('git', [...gitArgs, 'archive', '--format=tar', commit], { encoding: 'buffer' }), 'git archive');
  must(sh('tar', ['-x', '-C', appDir], { input: archive.stdout }), 'tar');
  console.log(`  installing the app's dependencies in ${appDir} (once) ...`);
  must(sh('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts'], { cwd: appDir }), 'npm install (the app)');
  fs.writeFileSync(stamp, commit);
  return { appDir, commit };
}

/** Packs this worktree and installs the tarball into the app, as a user would; notes whether npm accepts it without --legacy-peer-deps. */
function installPackage(appDir) {
  const packDir = fs.mkdtempSync(path.join(os.tmpdir(), 'eal-pack-'));
  const packed = must(sh('npm', ['pack', '--silent', '--pack-destination', packDir], { cwd: root }), 'npm pack')
    .stdout.trim()
    .split('\n')
    .pop();
  const tarball = path.join(packDir, packed);
  // npm skips a tarball of the same name and version it installed before: start from nothing, so
  // the run sees this build, and never a copy an earlier run worked around.
  fs.rmSync(path.join(appDir, 'node_modules', 'express-audit-log'), { recursive: true, force: true });
  const plain = sh('npm', ['install', '--dry-run', '--no-audit', '--no-fund', '--ignore-scripts', '--no-save', tarball], { cwd: appDir });
  // npm's ERESOLVE report: which installed version conflicts with which of our peer ranges.
  const found = (plain.stderr.match(/npm error Found: (\S+)/) || [])[1];
  const wanted = (plain.stderr.match(/npm error (peer\w* .+ from express-audit-log@\S+)/) || [])[1];
  const plainError =
    plain.status === 0
      ? null
      : `${(plain.stderr.match(/npm error code (\w+)/) || [])[1] || `exit ${plain.status}`}${found ? ` (the app has ${found}; ${wanted || 'a peer range'})` : ''}`;
  must(
    sh('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--no-save', '--legacy-peer-deps', tarball], { cwd: appDir }),
    'npm install (the package)',
  );
  fs.rmSync(packDir, { recursive: true, force: true });
  return { plainInstall: plainError ? `refused: ${plainError}` : 'accepted' };
}

/** Workaround for `node:` specifiers in the installed dist (jest < 27.1 cannot resolve them): returns the files changed. */
function stripNodePrefix(appDir) {
  const dist = path.join(appDir, 'node_modules', 'express-audit-log', 'dist');
  const changed = [];
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(file);
      else if (entry.name.endsWith('.js')) {
        const text = fs.readFileSync(file, 'utf8');
        const next = text.replace(/require\("node:([a-z_/]+)"\)/g, 'require("$1")');
        if (next !== text) {
          fs.writeFileSync(file, next);
          changed.push(path.relative(dist, file));
        }
      }
    }
  };
  walk(dist);
  return changed;
}

const serverLog = path.join(work, 'mongo-server.log');

/** The commands the test server refused while `fn` ran (mongo-server-child.js logs them). */
function refusedDuring(fn) {
  const before = fs.existsSync(serverLog) ? fs.statSync(serverLog).size : 0;
  const result = fn();
  const text = fs.existsSync(serverLog) ? fs.readFileSync(serverLog).subarray(before).toString('utf8') : '';
  const counts = new Map();
  for (const line of text.split('\n')) {
    if (!line.startsWith('EAL-REFUSED ')) continue;
    const { command, code, codeName, errmsg } = JSON.parse(line.slice('EAL-REFUSED '.length));
    const key = `${command}: ${code} ${codeName || ''} ${errmsg}`;
    counts.set(key, (counts.get(key) || 0) + 1);
  }
  result.refused = [...counts].map(([what, times]) => ({ what, times }));
  return result;
}

function printRefused(run) {
  console.log(`    commands the test server refused: ${run.refused.length === 0 ? 'none' : ''}`);
  for (const r of run.refused) console.log(`      - ${r.times} x ${r.what}`);
}

function runJest(appDir, label, env, withAudit) {
  const results = path.join(work, `${label}.json`);
  const report = path.join(work, `${label}-report.jsonl`);
  fs.rmSync(results, { force: true });
  fs.rmSync(report, { force: true });
  const argv = [path.join(appDir, 'node_modules', 'jest', 'bin', 'jest.js'), ...profile.jestArgs, '--json', `--outputFile=${results}`];
  if (withAudit) argv.push('--setupFilesAfterEnv', path.join(__dirname, 'jest-setup.js'));
  const run = sh(process.execPath, argv, {
    cwd: appDir,
    timeout: 600000,
    env: {
      ...process.env,
      ...(profile.nodeOptions ? { NODE_OPTIONS: profile.nodeOptions } : {}),
      ...env,
      EAL_APP_DIR: appDir,
      EAL_REPORT: report,
      EAL_STORE: store,
      EAL_OPTIONS: optionsJson,
      EAL_WORK: work,
    },
  });
  if (!fs.existsSync(results)) throw new Error(`${label}: jest wrote no results (exit ${run.status}):\n${run.stderr.slice(-4000)}`);
  const json = JSON.parse(fs.readFileSync(results, 'utf8'));
  const states = new Map();
  const suiteErrors = [];
  for (const file of json.testResults) {
    if (file.assertionResults.length === 0 && file.message)
      suiteErrors.push({
        file: path.relative(appDir, file.name),
        message: file.message
          .split('\n')
          .find((l) => l.trim() && !l.includes('Test suite failed to run'))
          ?.trim(),
      });
    for (const test of file.assertionResults) {
      const title = `${path.relative(appDir, file.name)} › ${test.fullName}`;
      if (!states.has(title)) states.set(title, []);
      states
        .get(title)
        .push({ state: test.status, error: test.failureMessages && test.failureMessages[0] ? test.failureMessages[0].split('\n')[0] : undefined });
    }
  }
  const reports = fs.existsSync(report)
    ? fs
        .readFileSync(report, 'utf8')
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l))
    : [];
  return { label, json, states, suiteErrors, reports, stderr: run.stderr };
}

function compare(bare, other) {
  const differences = [];
  for (const title of new Set([...bare.states.keys(), ...other.states.keys()])) {
    const a = (bare.states.get(title) || []).map((s) => s.state).join(',') || 'absent';
    const b = (other.states.get(title) || []).map((s) => s.state).join(',') || 'absent';
    if (a !== b) differences.push({ test: title, bare: a, with: b, error: (other.states.get(title) || []).map((s) => s.error).filter(Boolean)[0] });
  }
  return differences;
}

function counts(run) {
  const { numPassedTests, numFailedTests, numPendingTests, numTotalTestSuites, numFailedTestSuites } = run.json;
  return `${numPassedTests} passed, ${numFailedTests} failed, ${numPendingTests} pending (suites: ${numTotalTestSuites - numFailedTestSuites}/${numTotalTestSuites} ran)`;
}

function printWith(run, differences) {
  console.log(`    tests whose outcome changed: ${differences.length}`);
  const byError = new Map();
  for (const d of differences) {
    const key = d.error || `${d.bare} -> ${d.with}`;
    if (!byError.has(key)) byError.set(key, []);
    byError.get(key).push(d);
  }
  for (const [error, list] of byError) console.log(`      - ${list.length} x ${error}\n          e.g. ${list[0].test}`);
  for (const e of run.suiteErrors) console.log(`      - suite did not run: ${e.file}: ${e.message}`);
  const sum = (key) => run.reports.reduce((n, r) => n + r[key], 0);
  const problems = run.reports.flatMap((r) => r.problems);
  const orphans = run.reports.flatMap((r) => r.orphans);
  const errors = run.reports.flatMap((r) => r.auditErrors);
  const requestsWithProblem = new Set(problems.map((p) => `${p.test}|${p.request}|${p.entry && p.entry.requestId}`)).size;
  console.log(`    audit instances: ${sum('audits')}; mutating requests that reached the app: ${sum('mutatingRequests')}; entries recorded: ${sum('entries')}`);
  const ttl = run.reports.map((r) => r.ttlIndex).filter(Boolean);
  if (ttl.length > 0) {
    const wrongTtl = ttl.filter((t) => t.missing || t.expireAfterSeconds !== 86400);
    console.log(
      `    TTL index on auditLog.date (ttl '1d' = 86400 s), read after ${ttl.length} test files: ${wrongTtl.length === 0 ? 'right in each' : `wrong in ${wrongTtl.length}: ${JSON.stringify(wrongTtl[0])}`}`,
    );
  }
  console.log(
    `    requests with a wrong, missing or extra entry: ${requestsWithProblem}; entries matching no request: ${orphans.length}; audit 'error' events: ${errors.length}`,
  );
  const groups = new Map();
  for (const p of problems) {
    const key = `${p.kind}${p.field ? ` (${p.field})` : ''}`;
    if (!groups.has(key)) groups.set(key, new Map());
    const byRoute = groups.get(key);
    const routeKey = `${p.request.split(' ')[0]} ${p.route || p.request.split(' ')[1]}`;
    if (!byRoute.has(routeKey)) byRoute.set(routeKey, []);
    byRoute.get(routeKey).push(p);
  }
  for (const [key, byRoute] of groups) {
    const total = [...byRoute.values()].reduce((n, l) => n + l.length, 0);
    console.log(`      - ${total} x ${key}`);
    for (const [route, list] of byRoute)
      console.log(
        `          ${String(list.length).padStart(3)} x ${route}: e.g. ${list[0].request} -> ${list[0].answered}: ${list[0].wrong || JSON.stringify(list[0].entries)}`,
      );
  }
  for (const e of errors.slice(0, 5)) console.log(`      audit error ${e.code} in "${e.test}": ${e.message}`);
  return { problems: problems.length, requestsWithProblem, orphans: orphans.length, errors: errors.length };
}

async function main() {
  console.log(`${profile.name} (${source} @ ${ref})`);
  const { appDir, commit } = prepareApp();
  const versions = Object.fromEntries(
    ['express', 'mongoose', 'jest', 'supertest'].map((name) => [
      name,
      JSON.parse(fs.readFileSync(path.join(appDir, 'node_modules', name, 'package.json'), 'utf8')).version,
    ]),
  );
  const install = installPackage(appDir);
  console.log(
    `  commit ${commit.slice(0, 12)}; ${Object.entries(versions)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}; store: ${store}`,
  );
  console.log(`  npm install express-audit-log into the app without --legacy-peer-deps: ${install.plainInstall}`);
  const server = await startMongoServer({ log: serverLog });
  const summary = { app: profile.name, commit, versions, store, options: JSON.parse(optionsJson), install, runs: [] };
  let failed = false;
  try {
    const env = profile.env(server.uri);
    const bare = refusedDuring(() => runJest(appDir, 'bare', env, false));
    console.log(`  bare:    ${counts(bare)}`);
    printRefused(bare);
    summary.bare = { passed: bare.json.numPassedTests, failed: bare.json.numFailedTests };
    const restore = profile.patch(appDir);
    try {
      if (profile.typecheck) {
        // The app's own type-check with the line added: what `tsc` says about it and the package's types.
        const tsc = sh(process.execPath, profile.typecheck, { cwd: appDir });
        const errors = `${tsc.stdout}${tsc.stderr}`.split('\n').filter((l) => /error TS/.test(l));
        const ours = errors.filter((l) => l.startsWith(profile.appFile) || l.includes('express-audit-log'));
        console.log(
          `  the app's type-check (${profile.typecheck.slice(1).join(' ')}) with the line: ${errors.length} errors, ${ours.length} in ${profile.appFile} or the package`,
        );
        for (const l of ours.slice(0, 10)) console.log(`      ${l}`);
        summary.typecheck = { errors: errors.length, ours };
      }
      const asIs = refusedDuring(() => runJest(appDir, 'with', env, true));
      console.log(`  with the one line: ${counts(asIs)}`);
      printRefused(asIs);
      const differences = compare(bare, asIs);
      const checked = printWith(asIs, differences);
      summary.runs.push({
        label: 'with',
        workarounds: [],
        passed: asIs.json.numPassedTests,
        failed: asIs.json.numFailedTests,
        differences,
        ...checked,
        reports: asIs.reports,
      });
      failed = differences.length > 0 || checked.problems > 0 || checked.orphans > 0 || checked.errors > 0;
      // Measure the rest: work around, one at a time, what keeps the package from loading or
      // running in this test runner; say so, and run again.
      let last = { differences };
      const workarounds = [];
      const steps = [
        () => {
          const stripped = stripNodePrefix(appDir);
          return stripped.length > 0
            ? { name: `node: specifiers rewritten to bare ones in ${stripped.length} dist files (jest < 27.1 cannot load them)`, env: {} }
            : null;
        },
        () => ({ name: 'a global performance (from perf_hooks) where the test environment has none', env: { EAL_WORKAROUND_PERFORMANCE: '1' } }),
      ];
      let extraEnv = {};
      for (const step of steps) {
        if (last.differences.length === 0) break;
        const applied = step();
        if (!applied) continue;
        workarounds.push(applied.name);
        extraEnv = { ...extraEnv, ...applied.env };
        const label = `with-workaround-${workarounds.length}`;
        const patched = refusedDuring(() => runJest(appDir, label, { ...env, ...extraEnv }, true));
        console.log(`  with the one line, after working around ${workarounds.map((w, i) => `(${i + 1}) ${w}`).join(' and ')}: ${counts(patched)}`);
        printRefused(patched);
        const differences2 = compare(bare, patched);
        const checked2 = printWith(patched, differences2);
        summary.runs.push({
          label,
          workarounds: [...workarounds],
          passed: patched.json.numPassedTests,
          failed: patched.json.numFailedTests,
          differences: differences2,
          ...checked2,
          reports: patched.reports,
        });
        last = { differences: differences2 };
      }
    } finally {
      restore();
    }
  } finally {
    await server.stop();
  }
  if (jsonOut) fs.writeFileSync(jsonOut, JSON.stringify(summary, null, 2));
  console.log(`  details: ${work}${jsonOut ? `, ${jsonOut}` : ''}`);
  process.exit(failed ? 1 : 0);
}

main().catch((error) => {
  console.error(error.stack || error.message);
  process.exit(2);
});
