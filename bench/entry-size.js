#!/usr/bin/env node
'use strict';
/**
 * How many bytes an audit entry takes in MongoDB (see README, At scale → Sizing):
 *
 *   npm run build && node bench/entry-size.js
 *
 * Real entries, recorded by the middleware from real HTTP requests to a small REST API (create
 * with a 3-field body and its 201 result, update, delete, an association add, a 404), then
 * measured as the MongoDB store writes them: BSON of the document with an ObjectId `_id`.
 * With `integrity` on, the same requests again: the chain fields' share. Index sizes are not
 * measured here (no mongod): the README gives MongoDB's own estimates beside these numbers.
 */
const http = require('node:http');
const path = require('node:path');
const express = require('express');
const { BSON, ObjectId } = require('bson');
const { auditLog, memoryStore } = require(path.join(__dirname, '..', 'dist'));

function app(options) {
  const store = memoryStore({ maxEntries: 100_000 });
  const audit = auditLog({ store, getUser: () => 'auth0|5f8a1c2b3d4e5f6a7b8c9d0e', ...options });
  const server = express();
  server.use(express.json());
  server.use(audit);
  server.post('/users', (req, res) => res.status(201).json({ _id: new ObjectId().toHexString(), ...req.body, createdAt: new Date() }));
  server.put('/users/:id', (req, res) => res.json({ _id: req.params.id, ...req.body, updatedAt: new Date() }));
  server.delete('/users/:id', (_req, res) => res.status(204).end());
  server.put('/users/:id/groups/:groupId', (_req, res) => res.status(204).end());
  server.post('/orders', (_req, res) => res.status(404).json({ message: 'customer not found' }));
  return { server, audit, store };
}

let requests = 0;

function send(port, method, url, body) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? '' : JSON.stringify(body);
    const req = http.request(
      {
        port,
        method,
        path: url,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(data),
          'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) bench/1.0',
          'x-request-id': `req-${String(++requests).padStart(10, '0')}`,
        },
      },
      (res) => res.resume().on('end', resolve),
    );
    req.on('error', reject);
    req.end(data);
  });
}

const MIX = [
  ['POST', () => '/users', () => ({ name: 'Ada Lovelace', email: 'ada@example.com', role: 'editor' })],
  ['PUT', () => `/users/${new ObjectId().toHexString()}`, () => ({ role: 'admin' })],
  ['DELETE', () => `/users/${new ObjectId().toHexString()}`, () => undefined],
  ['PUT', () => `/users/${new ObjectId().toHexString()}/groups/${new ObjectId().toHexString()}`, () => undefined],
  ['POST', () => '/orders', () => ({ customer: new ObjectId().toHexString(), items: [{ sku: 'A-1', qty: 2 }] })],
];

async function measure(options, rounds) {
  const { server, audit, store } = app(options);
  const listener = server.listen(0, '127.0.0.1');
  await new Promise((resolve) => listener.once('listening', resolve));
  const { port } = listener.address();
  for (let i = 0; i < rounds; i++) for (const [method, url, body] of MIX) await send(port, method, url(), body());
  await audit.flush();
  const { docs } = await store.find({ filter: {}, sort: [['date', 1]], skip: 0, limit: 100_000, select: null });
  const sizes = docs.map((doc) => BSON.calculateObjectSize({ ...doc, _id: new ObjectId(doc._id) }));
  const byKind = {};
  docs.forEach((doc, i) => {
    const kind = `${doc.method} ${doc.action}${doc.isError ? ' (error)' : ''}`;
    byKind[kind] = [...(byKind[kind] ?? []), sizes[i]];
  });
  await audit.close();
  listener.close();
  const mean = (values) => Math.round(values.reduce((a, b) => a + b, 0) / values.length);
  return { entries: docs.length, mean: mean(sizes), byKind: Object.fromEntries(Object.entries(byKind).map(([kind, values]) => [kind, mean(values)])) };
}

(async () => {
  const rounds = 200;
  const plain = await measure({}, rounds);
  const chained = await measure({ integrity: true }, rounds);
  console.log(`entries measured: ${plain.entries} (${rounds} rounds of ${MIX.length} requests)`);
  console.log(`mean BSON bytes per entry: ${plain.mean}; with integrity: ${chained.mean}`);
  for (const [kind, bytes] of Object.entries(plain.byKind)) console.log(`  ${kind}: ${bytes}`);
  const perDay = (rate) => rate * 86_400;
  for (const rate of [10, 100, 1000]) {
    const entries = perDay(rate);
    console.log(`${rate} mutating req/s: ${entries.toLocaleString('en')} entries/day, ${((entries * plain.mean) / 2 ** 30).toFixed(1)} GiB/day of documents`);
  }
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
