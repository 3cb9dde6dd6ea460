#!/usr/bin/env node
'use strict';
/**
 * What erasure support (the `encryption` option) adds on the write path, per entry (see README,
 * Data governance):
 *
 *   npm run build && node bench/encryption.js [--entries=N] [--rounds=N] [--users=N]
 *
 * 1. `seal` alone: the personal fields of a recorded request's entry (100-byte body, its result,
 *    user, IP, user agent) as JSON, AES-256-GCM under the user's cached data key (the blind index
 *    is computed once per user, with the key), as the middleware does before the writer's push().
 * 2. The whole write path, encryption on vs off: N entries through record() into a memory store
 *    (build, sanitize, seal, queue, batch, store the new data keys then the entries), CPU time
 *    (process.cpuUsage) per entry; the difference is the added cost. `--users` distinct users
 *    (default 100) share the entries, so most seals hit the key cache, as in an app.
 * Rounds alternate on and off; the medians are printed. Single process, no I/O.
 */
const { randomBytes } = require('node:crypto');
const path = require('node:path');

const dist = path.join(__dirname, '..', 'dist');
const { auditLog, memoryStore } = require(dist);
const { Keyring, DEFAULT_SEALED_FIELDS } = require(path.join(dist, 'encryption', 'keyring'));
const { masterKeyOf } = require(path.join(dist, 'encryption', 'master-keys'));
const { blankEntry } = require(path.join(dist, 'entry'));
const { cliArgs } = require('./args');

const args = cliArgs(['entries', 'rounds', 'users']);
const ENTRIES = Number(args.entries ?? 50_000);
const ROUNDS = Number(args.rounds ?? 7);
const USERS = Number(args.users ?? 100);
const masterKey = randomBytes(32);

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
    user: `user-${i % USERS}`,
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

function timeSeal() {
  const entries = Array.from({ length: ENTRIES }, (_, i) => requestEntry(i));
  const store = memoryStore();
  const keyring = new Keyring(store, { masterKeys: [masterKeyOf(masterKey)], fields: DEFAULT_SEALED_FIELDS, cacheSize: 10_000 });
  // CPU time, not wall time: on a shared machine the wall clock counts other jobs too.
  const before = process.cpuUsage();
  for (const entry of entries) keyring.seal(entry);
  const used = process.cpuUsage(before);
  return (used.user + used.system) / ENTRIES;
}

async function timeWritePath(encrypted) {
  const audit = auditLog({ store: memoryStore({ maxEntries: ENTRIES * 2 }), routes: false, ...(encrypted ? { encryption: { masterKey } } : {}) });
  await audit.flush();
  const payload = { name: 'Ada Lovelace', email: 'ada@example.com', role: 'admin', tags: ['a', 'b'] };
  const result = { _id: '65a1b2c3d4e5f60718293a4b', ...payload };
  const before = process.cpuUsage();
  for (let i = 0; i < ENTRIES; i++) {
    audit.record(null, {
      action: 'Create',
      user: `user-${i % USERS}`,
      collectionName: 'items',
      documents: ['65a1b2c3d4e5f60718293a4b'],
      payload: { ...payload, n: i },
      result,
    });
    // Let the writer run as it would between requests.
    if (i % 500 === 499) await new Promise((resolve) => setImmediate(resolve));
  }
  await audit.flush();
  const used = process.cpuUsage(before);
  await audit.close();
  if (audit.stats().written !== ENTRIES) throw new Error(`wrote ${audit.stats().written} of ${ENTRIES}`);
  return (used.user + used.system) / ENTRIES;
}

async function main() {
  const seal = [];
  const on = [];
  const off = [];
  for (let round = 0; round < ROUNDS; round++) {
    seal.push(timeSeal());
    off.push(await timeWritePath(false));
    on.push(await timeWritePath(true));
  }
  // The first round warms up the JIT: left out.
  const [s, a, b] = [seal.slice(1), on.slice(1), off.slice(1)].map(median);
  const fixed = (n) => n.toFixed(2);
  console.log(`Node ${process.version}, ${ENTRIES} entries per round from ${USERS} users, ${ROUNDS - 1} rounds measured (medians)`);
  console.log(`seal (JSON + AES-256-GCM under the user's cached key), CPU per entry: ${fixed(s)} µs`);
  console.log(`write path, CPU per entry: encryption off ${fixed(b)} µs, on ${fixed(a)} µs, added ${fixed(a - b)} µs`);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
