#!/usr/bin/env node
/**
 * The stats route's latency at growing sizes, on the embedded SQLite store (fileStore) and on
 * MongoDB through mongoStore. There is no mongod here: "MongoDB" is the in-project wire-protocol
 * test server (test/support/mongo-server, compiled like bench/run.js does, in its own process),
 * which keeps documents in memory and runs the aggregation with mingo, scanning every document
 * (it has no indexes to narrow the $match). Its numbers say what our code and the driver cost
 * plus a naive server; a real mongod uses the date index and runs $group natively.
 *
 *   npm run build && node bench/stats.js [--sizes=100000,1000000] [--stores=file,mongo] [--queries=10]
 *
 * Entries are bench/variants.js's (20 users over 20 hours, ~700 bytes of JSON each), one in 20 an
 * error (500). Each query is parsed by the stats route's own parser and run by its service
 * (src/query/stats.ts), as the route runs them, without HTTP.
 */
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync, fork } = require('node:child_process');
const { makeEntry } = require('./variants');

const { cliArgs } = require('./args');

const args = cliArgs(['sizes', 'stores', 'queries']);
const SIZES = (args.sizes || '100000,1000000').split(',').map(Number);
const STORES = (args.stores || 'file,mongo').split(',');
const QUERIES = Number(args.queries || 10);
const BATCH = 1000;
const SPAN_MS = 20 * 3600 * 1000; // as variants.js spreads makeEntry's dates

const ROOT = path.join(__dirname, '..');
const dist = path.join(ROOT, 'dist');
const { fileStore, mongoStore } = require(dist);
const { parseStatsQuery, computeStats } = require(path.join(dist, 'query', 'stats'));

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function latency(run) {
  await run(); // warm-up
  const times = [];
  for (let i = 0; i < QUERIES; i++) {
    const start = process.hrtime.bigint();
    await run();
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return `${percentile(times, 50).toFixed(0)} / ${percentile(times, 95).toFixed(0)}`;
}

/** The wire-protocol test server in its own process (with room for a million documents); resolves to its uri. */
async function startMongoServer() {
  const tsc = require.resolve('typescript/bin/tsc');
  try {
    execFileSync(process.execPath, [tsc, '-p', path.join(__dirname, 'tsconfig.json')], { cwd: ROOT, stdio: 'inherit' });
  } catch (error) {
    if (!fs.existsSync(path.join(__dirname, '.build/test/support/mongo-server/cli.js'))) throw error;
  }
  const child = fork(path.join(__dirname, 'mongo-server.js'), [], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    execArgv: ['--max-old-space-size=12288'],
  });
  const uri = await new Promise((resolve, reject) => {
    let buffer = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      buffer += chunk;
      const line = buffer.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve(JSON.parse(line).uri);
    });
    child.once('exit', (code) => reject(new Error(`the mongo test server exited (${code})`)));
  });
  if (!/^mongodb:\/\/(127\.0\.0\.1|localhost)[:/]/.test(uri)) throw new Error(`not on loopback: ${uri}`);
  return { uri, child };
}

async function openStore(kind) {
  if (kind === 'file') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eal-stats-'));
    const store = fileStore({ path: path.join(dir, 'audit.db') });
    return { store, close: async () => fs.rmSync(dir, { recursive: true, force: true }) };
  }
  const mongoose = require('mongoose');
  const server = await startMongoServer();
  // The test server answers one command at a time: while it runs a long aggregation the driver's
  // heartbeat waits too, and must not give up on the server (connectTimeoutMS bounds it).
  const connection = await mongoose.createConnection(server.uri, { dbName: 'bench', connectTimeoutMS: 900_000, serverSelectionTimeoutMS: 900_000 }).asPromise();
  // maxTimeMS: the test server is slow at a million documents; the bench measures, it does not cut.
  const store = mongoStore({ connection, maxTimeMS: 600_000 });
  return {
    store,
    close: async () => {
      await connection.close();
      server.child.kill('SIGTERM');
    },
  };
}

async function main() {
  const rows = [];
  const total = SIZES[SIZES.length - 1];
  const now = Date.now();
  for (const kind of STORES) {
    const { store, close } = await openStore(kind);
    await store.init({ ttlSeconds: null });
    let filled = 0;
    try {
      for (const size of SIZES) {
        const fillStart = Date.now();
        while (filled < size) {
          const batch = [];
          for (let i = 0; i < BATCH && filled < size; i++, filled++) {
            const entry = makeEntry(total - 1 - filled, total, now);
            if (filled % 20 === 0) Object.assign(entry, { statusCode: 500, isError: true });
            batch.push(entry);
          }
          await store.insertMany(batch);
        }
        const fillS = (Date.now() - fillStart) / 1000;
        // What is stored so far spans the oldest 20 h × size/total; the queries look at its newest part.
        const newest = now - Math.floor(((total - size) / total) * SPAN_MS);
        const iso = (ms) => new Date(ms).toISOString();
        const run = (search) => () => computeStats(store, parseStatsQuery(Object.fromEntries(new URLSearchParams(search)), now));
        const all = `from=${iso(now - SPAN_MS - 1000)}&to=${iso(now)}`;
        const hour = `from=${iso(newest - 3600_000)}&to=${iso(newest)}`;
        const counted = await run(all)();
        rows.push({
          store: kind === 'file' ? 'fileStore (SQLite)' : 'mongoStore (in-project test server)',
          entries: size,
          'fill s': fillS.toFixed(0),
          'whole log, 15m buckets: p50 / p95 ms': await latency(run(all)),
          '+ groupBy=user': await latency(run(`${all}&groupBy=user`)),
          'last hour, 1m buckets, groupBy=action': await latency(run(`${hour}&interval=1m&groupBy=action`)),
          'last hour, user=u3': await latency(run(`${hour}&user=u3`)),
          counted: `${counted.count} (${counted.errors} errors, ${counted.buckets.length} buckets)`,
        });
        console.error(JSON.stringify(rows[rows.length - 1]));
      }
    } finally {
      await store.close();
      await close();
    }
  }
  const headers = Object.keys(rows[0]);
  console.log(`| ${headers.join(' | ')} |`);
  console.log(`|${headers.map(() => '---').join('|')}|`);
  for (const row of rows) console.log(`| ${headers.map((h) => (typeof row[h] === 'number' ? row[h].toLocaleString('en-US') : row[h])).join(' | ')} |`);
  console.log(`\nNode ${process.version}, ${os.cpus().length} cores (shared), ${QUERIES} queries each after one warm-up.`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
