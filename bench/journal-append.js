#!/usr/bin/env node
'use strict';
/**
 * The journal's append alone (durability: 'journal'): serialize, checksum, writeSync, per entry,
 * on the disk under os.tmpdir(). What capture-cost.js's journal variant adds, without the HTTP noise.
 *
 *   npm run build && node bench/journal-append.js [--entries=20000] [--rounds=5]
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { Journal } = require('../dist/pipeline/journal');
const { SpoolOwner } = require('../dist/pipeline/spool-owner');
const { cliArgs } = require('./args');

const args = cliArgs(['entries', 'rounds']);
const ENTRIES = Number(args.entries ?? 20000);
const ROUNDS = Number(args.rounds ?? 5);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eal-journal-'));
const owner = new SpoolOwner(dir);
owner.claim();
const journal = new Journal(
  dir,
  owner,
  () => true,
  (error) => {
    throw error;
  },
);

// The entry capture-cost.js's POST makes, as stored.
function entry(i) {
  return {
    _id: i.toString(16).padStart(24, '0'),
    date: new Date(),
    method: 'POST',
    action: 'Create',
    endpoint: '/api/users',
    user: null,
    collectionName: 'users',
    childCollectionName: null,
    associationType: null,
    documents: ['65a1b2c3d4e5f60718293a4b'],
    payload: { name: 'Ada Lovelace', email: 'ada@example.com', password: '[REDACTED]', roles: ['admin', 'user'], age: 36 },
    params: null,
    result: { _id: '65a1b2c3d4e5f60718293a4b', name: 'Ada Lovelace', email: 'ada@example.com', roles: ['admin', 'user'], age: 36 },
    statusCode: 201,
    isError: false,
    responseMessage: null,
    ipAddress: '127.0.0.1',
    notes: null,
    requestId: '3f6c1a2e-5b7d-4c8e-9f01-23456789abcd',
    traceId: null,
    durationMs: 1.234,
    userAgent: null,
    truncated: null,
    message: null,
    changes: null,
  };
}

for (let round = 0; round < ROUNDS; round++) {
  const entries = Array.from({ length: ENTRIES }, (_, i) => entry(round * ENTRIES + i));
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  for (const e of entries) journal.append(e);
  const wall = Number(process.hrtime.bigint() - start) / 1000 / ENTRIES;
  const used = process.cpuUsage(cpu);
  journal.confirm(entries); // as the store would: files are deleted as they fill
  console.log(`append: ${wall.toFixed(2)} µs wall, ${((used.user + used.system) / ENTRIES).toFixed(2)} µs CPU per entry`);
}
journal.close();
owner.release();
fs.rmSync(dir, { recursive: true, force: true });
