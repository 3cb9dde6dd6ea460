#!/usr/bin/env node
/**
 * Sums jest JSON reports into CI's one closing line, `N passed, N failed` (`, N skipped` after it when
 * any test was skipped), after one line per run. A run that left no readable report counts as one
 * failure: a crash must not pass as "0 failed". Exits 1 on any failure.
 * Usage: node scripts/ci-summary.js label=report.json ...
 */
const fs = require('node:fs');

let passed = 0;
let failed = 0;
let skipped = 0;
for (const arg of process.argv.slice(2)) {
  const at = arg.indexOf('=');
  const [label, file] = at === -1 ? [arg, arg] : [arg.slice(0, at), arg.slice(at + 1)];
  let report;
  try {
    report = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    console.log(`ci: ${label}: no jest report (${error.code ?? error.message}), counted as 1 failed`);
    failed += 1;
    continue;
  }
  // A suite that failed to load (a syntax error, a throwing import) has no failed test but is a failure.
  const brokenSuites = report.testResults.filter((suite) => suite.status === 'failed' && suite.assertionResults.every((t) => t.status !== 'failed')).length;
  const runSkipped = report.numPendingTests + report.numTodoTests;
  console.log(
    `ci: ${label}: ${report.numPassedTests} passed, ${report.numFailedTests + brokenSuites} failed, ${runSkipped} skipped${brokenSuites ? ` (${brokenSuites} suites failed to run)` : ''}`,
  );
  passed += report.numPassedTests;
  failed += report.numFailedTests + brokenSuites;
  skipped += runSkipped;
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 ? 1 : 0);
