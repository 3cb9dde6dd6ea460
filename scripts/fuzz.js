#!/usr/bin/env node
/**
 * `npm run fuzz`: every test file with a fast-check property, from a fresh seed and with
 * FUZZ_RUNS_FACTOR (default 10) times the runs `npm test` makes. The seed is printed first and
 * last, so a failure can be replayed exactly: `FUZZ_SEED=<seed> npm run fuzz`. Each counterexample
 * found this way becomes a plain regression test. Extra arguments go to jest (a file, -t NAME).
 */
const { spawnSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const seed = process.env.FUZZ_SEED || String(crypto.randomInt(0, 2 ** 31 - 1));
const factor = process.env.FUZZ_RUNS_FACTOR || '10';

function propertyFiles(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((item) => {
    const full = path.join(dir, item.name);
    if (item.isDirectory()) return propertyFiles(full);
    return item.name.endsWith('.test.ts') && fs.readFileSync(full, 'utf8').includes('fc.assert(') ? [path.relative(root, full)] : [];
  });
}

const args = process.argv.slice(2);
const files = args.length > 0 ? [] : propertyFiles(path.join(root, 'test'));
const replay = `FUZZ_SEED=${seed} FUZZ_RUNS_FACTOR=${factor} npm run fuzz${args.length > 0 ? ` -- ${args.join(' ')}` : ''}`;
console.log(`fuzz: seed ${seed}, ${factor}x the runs, ${files.length > 0 ? files.join(' ') : args.join(' ')}`);
const run = spawnSync(process.execPath, [require.resolve('jest/bin/jest'), '--testTimeout=1800000', ...files, ...args], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, FUZZ_SEED: seed, FUZZ_RUNS_FACTOR: factor },
});
console.log(`fuzz: seed ${seed} ${run.status === 0 ? 'passed' : 'FAILED'}; replay with: ${replay}`);
process.exit(run.status ?? 1);
