#!/usr/bin/env node
'use strict';
/**
 * What integrity adds on the write path, per entry (see README, Integrity):
 *
 *   npm run build && node bench/integrity.js [--entries=N] [--rounds=N]
 *
 * 1. `link` alone: numbering, the canonical form and SHA-256 of a recorded request's entry
 *    (100-byte body, a result, the fields a request fills), as the writer does on push().
 * 2. The whole write path, integrity on vs off: N entries through record() into a memory store
 *    (build, sanitize, queue, batch, store, and with integrity the chain and its checkpoints,
 *    signed with Ed25519), CPU time (process.cpuUsage) per entry; the difference is the added cost.
 * 3. One checkpoint's Ed25519 signature.
 * Rounds alternate on and off; the medians are printed. Single process, no I/O.
 */
const { generateKeyPairSync } = require('node:crypto');
const path = require('node:path');

const dist = path.join(__dirname, '..', 'dist');
const { auditLog, memoryStore } = require(dist);
const { Chain } = require(path.join(dist, 'integrity', 'chain'));
const { signerOf } = require(path.join(dist, 'integrity', 'signing'));
const { blankEntry } = require(path.join(dist, 'entry'));
const { cliArgs } = require('./args');

const args = cliArgs(['entries', 'rounds']);
const ENTRIES = Number(args.entries ?? 50_000);
const ROUNDS = Number(args.rounds ?? 7);
const { privateKey } = generateKeyPairSync('ed25519');

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** An entry like a recorded POST with a 100-byte JSON body and its 201 result. */
function requestEntry(i) {
  const entry = blankEntry(`65a1b2c3d4e5f607182${String(i % 100000).padStart(5, '0')}`, new Date(1_780_000_000_000 + i));
  Object.assign(entry, {
    method: 'POST',
    action: 'Create',
    endpoint: '/items',
    user: 'user-17',
    collectionName: 'items',
    documents: [`65a1b2c3d4e5f60718293a${String(i % 100).padStart(2, '0')}`],
    payload: { name: 'Ada Lovelace', email: 'ada@example.com', role: 'admin', tags: ['a', 'b'], n: i },
    params: null,
    result: { _id: '65a1b2c3d4e5f60718293a4b', name: 'Ada Lovelace', email: 'ada@example.com', role: 'admin', tags: ['a', 'b'], n: i },
    statusCode: 201,
    ipAddress: '127.0.0.1',
    requestId: '0f7c9f7e-3a51-4a57-9f0f-2bd0c3b8e7a1',
    durationMs: 0.812,
    userAgent: 'autocannon/7.15.0',
  });
  return entry;
}

function timeLink() {
  const entries = Array.from({ length: ENTRIES }, (_, i) => requestEntry(i));
  const chain = new Chain({ signer: null, checkpointEvery: 1000, checkpointIntervalMs: 60_000, ttlSeconds: null });
  const start = process.hrtime.bigint();
  for (const entry of entries) chain.link(entry);
  return Number(process.hrtime.bigint() - start) / 1000 / ENTRIES;
}

async function timeWritePath(integrity) {
  const audit = auditLog({ store: memoryStore({ maxEntries: ENTRIES * 2 }), routes: false, integrity: integrity ? { signingKey: privateKey } : false });
  await audit.flush();
  const payload = { name: 'Ada Lovelace', email: 'ada@example.com', role: 'admin', tags: ['a', 'b'] };
  const result = { _id: '65a1b2c3d4e5f60718293a4b', ...payload };
  const before = process.cpuUsage();
  for (let i = 0; i < ENTRIES; i++) {
    audit.record(null, { action: 'Create', collectionName: 'items', documents: ['65a1b2c3d4e5f60718293a4b'], payload: { ...payload, n: i }, result });
    // Let the writer run as it would between requests.
    if (i % 500 === 499) await new Promise((resolve) => setImmediate(resolve));
  }
  await audit.flush();
  const used = process.cpuUsage(before);
  await audit.close();
  if (audit.stats().written !== ENTRIES) throw new Error(`wrote ${audit.stats().written} of ${ENTRIES}`);
  return (used.user + used.system) / ENTRIES;
}

function timeSign() {
  const signer = signerOf(privateKey);
  const checkpoint = {
    _id: 'c:1',
    chain: 'c',
    seq: 1000,
    hash: 'ab'.repeat(32),
    count: 1000,
    dropped: 0,
    firstDate: new Date(),
    lastDate: new Date(),
    at: new Date(),
    ttlSeconds: 86_400,
    keyId: null,
    signature: null,
  };
  const n = 2000;
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) signer.sign({ ...checkpoint, seq: i });
  return Number(process.hrtime.bigint() - start) / 1000 / n;
}

async function main() {
  const link = [];
  const on = [];
  const off = [];
  for (let round = 0; round < ROUNDS; round++) {
    link.push(timeLink());
    off.push(await timeWritePath(false));
    on.push(await timeWritePath(true));
  }
  // The first round warms up the JIT: left out.
  const [l, a, b] = [link.slice(1), on.slice(1), off.slice(1)].map(median);
  const sign = timeSign();
  const fixed = (n) => n.toFixed(2);
  console.log(`Node ${process.version}, ${ENTRIES} entries per round, ${ROUNDS - 1} rounds measured (medians)`);
  console.log(`link (number + canonical form + SHA-256), per entry: ${fixed(l)} µs`);
  console.log(`write path, CPU per entry: integrity off ${fixed(b)} µs, on ${fixed(a)} µs, added ${fixed(a - b)} µs`);
  console.log(`one checkpoint signature (Ed25519): ${fixed(sign)} µs, once per ${1000} entries by default (${fixed(sign / 1000)} µs per entry)`);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
