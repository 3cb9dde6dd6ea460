#!/usr/bin/env node
'use strict';
/**
 * What `deliver` adds, per entry (see README, SIEM delivery):
 *
 *   npm run build && node bench/delivery.js [--entries=N] [--rounds=N] [--format=ndjson|ocsf]
 *
 * N entries through record() into a memory store, with and without delivery to a receiver in
 * another process (so its own CPU is not counted), CPU time of this process (process.cpuUsage)
 * per entry, until the store and the endpoint have both taken everything. The difference is what
 * delivery costs the app's process: the second queue, JSON per line, the HMAC, the HTTP client.
 * Rounds alternate off and on; medians printed, the first round (warm-up) left out.
 */
const { spawn } = require('node:child_process');
const path = require('node:path');
const { auditLog, memoryStore } = require(path.join(__dirname, '..', 'dist'));

const { cliArgs } = require('./args');

const args = cliArgs(['entries', 'rounds', 'format']);
const ENTRIES = Number(args.entries ?? 20_000);
const ROUNDS = Number(args.rounds ?? 5);
const FORMAT = args.format ?? 'ndjson';
const SECRET = 'a-delivery-secret-of-32-chars-or-more';

const RECEIVER = `
const http = require('node:http');
let lines = 0;
const server = http.createServer((req, res) => {
  req.on('data', (chunk) => { for (const byte of chunk) if (byte === 10) lines++; });
  req.on('end', () => res.writeHead(204).end());
});
server.listen(0, '127.0.0.1', () => process.stdout.write(String(server.address().port) + '\\n'));
`;

function startReceiver() {
  const child = spawn(process.execPath, ['-e', RECEIVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve) => child.stdout.once('data', (data) => resolve({ child, port: Number(String(data).trim()) })));
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function timeWritePath(port) {
  const deliver = port ? { url: `http://127.0.0.1:${port}/ingest`, secret: SECRET, format: FORMAT } : false;
  const audit = auditLog({ store: memoryStore({ maxEntries: ENTRIES * 2 }), routes: false, deliver, maxQueueEntries: ENTRIES * 2 });
  await audit.flush();
  const payload = { name: 'Ada Lovelace', email: 'ada@example.com', role: 'admin', tags: ['a', 'b'] };
  const result = { _id: '65a1b2c3d4e5f60718293a4b', ...payload };
  const before = process.cpuUsage();
  for (let i = 0; i < ENTRIES; i++) {
    audit.record(null, { action: 'Create', collectionName: 'items', documents: ['65a1b2c3d4e5f60718293a4b'], payload: { ...payload, n: i }, result });
    if (i % 500 === 499) await new Promise((resolve) => setImmediate(resolve));
  }
  await audit.flush();
  const used = process.cpuUsage(before);
  await audit.close();
  const stats = audit.stats();
  if (stats.written !== ENTRIES || (port && stats.delivery.written !== ENTRIES)) throw new Error(`incomplete: ${JSON.stringify(stats)}`);
  return (used.user + used.system) / ENTRIES;
}

async function main() {
  const { child, port } = await startReceiver();
  const on = [];
  const off = [];
  try {
    for (let round = 0; round < ROUNDS; round++) {
      off.push(await timeWritePath(null));
      on.push(await timeWritePath(port));
    }
  } finally {
    child.kill();
  }
  const [a, b] = [on.slice(1), off.slice(1)].map(median);
  const fixed = (n) => n.toFixed(2);
  console.log(`Node ${process.version}, ${ENTRIES} entries per round, ${ROUNDS - 1} rounds measured (medians), format ${FORMAT}`);
  console.log(`write path, CPU per entry: deliver off ${fixed(b)} µs, on ${fixed(a)} µs, added ${fixed(a - b)} µs`);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
