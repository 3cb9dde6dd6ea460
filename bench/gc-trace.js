#!/usr/bin/env node
'use strict';
/**
 * Where the garbage collector's time goes for one variant under continuous load, which the
 * interleaved rounds of run.js cannot show (between rounds an idle app gives its heap back).
 *
 *   node bench/gc-trace.js <variant> [node flags…]     e.g. memory --max-semi-space-size=64
 *
 * Starts bench/server.js for the variant with --trace-gc, loads it with the mixed writes for four
 * back-to-back 12-second phases (autocannon, 50 connections), and prints per phase the req/s and
 * the count and main-thread pause total of scavenges and mark-compacts.
 */
const { fork } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const autocannon = require('autocannon');
const [variant, ...flags] = process.argv.slice(2);
if (!variant) {
  console.error('usage: node bench/gc-trace.js <variant> [node flags…]');
  process.exit(2);
}
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eal-gc-')); // the file store's data, removed at exit
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
const child = fork(path.join(__dirname, 'server.js'), [variant], {
  execArgv: ['--trace-gc', ...flags],
  env: { ...process.env, NODE_ENV: 'production', BENCH_DIR: dir },
  stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
});
let out = '';
child.stdout.on('data', (d) => {
  out += d;
});
child.on('message', async (msg) => {
  if (msg.type !== 'ready') return;
  const body = JSON.stringify({ name: 'widget', qty: 3, price: 9.99, tags: ['a', 'b'], note: 'x'.repeat(20) });
  const H = { 'content-type': 'application/json' };
  for (let phase = 0; phase < 4; phase++) {
    const start = out.length;
    const cpu0 = process.cpuUsage();
    const r = await autocannon({
      url: `http://127.0.0.1:${msg.port}`,
      connections: 50,
      duration: 12,
      requests: [
        { method: 'POST', path: '/items', headers: H, body },
        { method: 'PUT', path: '/items/65a1b2c3d4e5f60718293a4b', headers: H, body },
        { method: 'DELETE', path: '/items/65a1b2c3d4e5f60718293a4b' },
      ],
    });
    const lines = out
      .slice(start)
      .split('\n')
      .filter((l) => l.includes('ms:'));
    const pause = (l) => Number((/MB, ([\d.]+) \//.exec(l) || [0, 0])[1]);
    const sum = (re) => lines.filter((l) => re.test(l)).reduce((a, l) => a + pause(l), 0);
    console.log(
      `${variant} ${flags.join(' ')} phase ${phase}: ${Math.round(r.requests.average)} req/s; scavenges ${lines.filter((l) => /Scavenge/.test(l)).length} (${sum(/Scavenge/).toFixed(0)} ms), mark-compacts ${lines.filter((l) => /Mark-Compact/.test(l)).length} (${sum(/Mark-Compact/).toFixed(0)} ms)`,
    );
  }
  child.kill();
});
