#!/usr/bin/env node
/**
 * Growth scenario for the embedded store: fills a fileStore() through its store interface (the
 * writer's insertMany, batches of 100) and, at each size, reports the process's memory, the
 * per-entry write cost, the database's size on disk, and the latency of the list route's
 * queries (parsed by the list route's own parser, run on the store as the route runs them).
 *
 *   npm run build && node --expose-gc bench/growth.js [--sizes=10000,100000,1000000] [--queries=60]
 *
 * Entries are bench/variants.js's list-scenario entries (20 users over 20 hours, ~700 bytes of
 * JSON each, written oldest first); the list query is one user's last 4 hours, 50 a page, with its total.
 */
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { makeEntry } = require('./variants');

const SPAN_MS = 20 * 3600 * 1000; // as variants.js spreads makeEntry's dates

const { cliArgs } = require('./args');

const args = cliArgs(['sizes', 'queries']);
const SIZES = (args.sizes || '10000,100000,1000000').split(',').map(Number);
const QUERIES = Number(args.queries || 60);
const BATCH = 100;

const root = path.join(__dirname, '..', 'dist');
const { fileStore } = require(root);
const { parseListQuery } = require(path.join(root, 'query', 'list-query'));

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** ms per call, p50 and p95, of `run` (awaited), after 3 warm-up calls. */
async function latency(run) {
  for (let i = 0; i < 3; i++) await run(i);
  const times = [];
  for (let i = 0; i < QUERIES; i++) {
    const start = process.hrtime.bigint();
    await run(i);
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return { p50: percentile(times, 50), p95: percentile(times, 95) };
}

function query(search, now) {
  const raw = Object.fromEntries(new URLSearchParams(search));
  return parseListQuery(raw, { defaultLimit: 20, maxLimit: 1000 }, now).query;
}

function mb(bytes) {
  return (bytes / 1048576).toFixed(1);
}

function fileBytes(file) {
  return ['', '-wal', '-shm'].reduce((sum, suffix) => sum + (fs.existsSync(file + suffix) ? fs.statSync(file + suffix).size : 0), 0);
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eal-growth-'));
  const file = path.join(dir, 'audit.db');
  const store = fileStore({ path: file });
  await store.init({ ttlSeconds: 86_400 });
  const total = SIZES[SIZES.length - 1];
  const now = Date.now();
  const rows = [];
  let filled = 0;
  let writeNs = 0n;
  let writeCpuUs = 0;
  try {
    for (const size of SIZES) {
      const from = filled;
      while (filled < size) {
        const batch = [];
        // Oldest first, as an app writes them: dates spread over 20 hours for the largest size.
        for (let i = 0; i < BATCH && filled < size; i++, filled++) batch.push(makeEntry(total - 1 - filled, total, now));
        const start = process.hrtime.bigint();
        const cpu = process.cpuUsage();
        await store.insertMany(batch);
        writeNs += process.hrtime.bigint() - start;
        const used = process.cpuUsage(cpu);
        writeCpuUs += used.user + used.system;
      }
      const perEntryUs = Number(writeNs) / 1e3 / Math.max(1, filled - from);
      const perEntryCpuUs = writeCpuUs / Math.max(1, filled - from);
      writeNs = 0n;
      writeCpuUs = 0;
      if (global.gc) global.gc();
      const memory = process.memoryUsage();
      // The list route's default query, the same with $count, a documents lookup (history), an _id (detail).
      // One user's last 4 hours (of what is stored so far), 50 a page: the list scenario's query.
      const newest = now - Math.floor(((total - size) / total) * SPAN_MS);
      const search = `user=u1&from=${encodeURIComponent(new Date(newest - 4 * 3600_000).toISOString())}&to=${encodeURIComponent(new Date(newest).toISOString())}&$limit=50`;
      const list = query(search, now);
      const count = query(`${search}&$count=true`, now);
      const probe = (await store.find({ filter: {}, sort: [['date', -1]], skip: 0, limit: 1, select: null })).docs[0];
      const listMs = await latency(() => store.find(list));
      const countMs = await latency(() => store.count(count.filter));
      const docMs = await latency(async () => store.find(query(`documents=${probe.documents[0]}`, now)));
      const byIdMs = await latency(() => store.findById(probe._id));
      const termMs = await latency(() => store.find(query(`user=u3&$term=item-12&from=${encodeURIComponent(new Date(newest - 3600_000).toISOString())}`, now)));
      rows.push({
        entries: size,
        'write µs/entry, wall / CPU (batches of 100)': `${perEntryUs.toFixed(1)} / ${perEntryCpuUs.toFixed(1)}`,
        'RSS MB': mb(memory.rss),
        'heap used / total MB': `${mb(memory.heapUsed)} / ${mb(memory.heapTotal)}`,
        'db on disk MB': mb(fileBytes(file)),
        'list p50/p95 ms': `${listMs.p50.toFixed(2)} / ${listMs.p95.toFixed(2)}`,
        'list total': (await store.find(list)).total,
        '$count p50 ms': countMs.p50.toFixed(2),
        'documents= p50 ms': docMs.p50.toFixed(2),
        'by id p50 ms': byIdMs.p50.toFixed(2),
        'user+1h+$term p50 ms': termMs.p50.toFixed(2),
      });
      console.error(JSON.stringify(rows[rows.length - 1]));
    }
  } finally {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const headers = Object.keys(rows[0]);
  console.log(`| ${headers.join(' | ')} |`);
  console.log(`|${headers.map(() => '---').join('|')}|`);
  for (const row of rows) console.log(`| ${headers.map((h) => (typeof row[h] === 'number' ? row[h].toLocaleString('en-US') : row[h])).join(' | ')} |`);
  console.log(`\nNode ${process.version}, ${os.cpus().length} cores, ${global.gc ? 'after a full GC' : 'without --expose-gc'}; ${QUERIES} queries each.`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
