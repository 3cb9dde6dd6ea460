#!/usr/bin/env node
'use strict';
/**
 * Capture's own CPU per request, measured in one process: interleaved A/B blocks of keep-alive
 * POSTs against apps that differ only in the middleware, process CPU (all threads, so the
 * collector's helper threads count) per request, medians over blocks. The client runs in the
 * same process and costs the same in every variant, so differences are the middleware's.
 *
 *   node bench/capture-cost.js [--blocks=9] [--requests=2000] [--only=bare,noop,memory]
 *
 * Variants: bare (no middleware), noop (auditLog with a store whose insertMany does nothing:
 * capture and the writer alone), memory (memoryStore), journal (memoryStore with durability:
 * 'journal': each entry also appended to a journal file, synchronously, inside res.end()),
 * pino (pino-http to a file, for scale). `--only=memory,journal` is the journal's A/B.
 */
const http = require('node:http');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const express = require('express');
const { auditLog, memoryStore } = require('..');
const { noopStore } = require('./variants');
const { cliArgs } = require('./args');

const args = cliArgs(['blocks', 'requests', 'only']);
const BLOCKS = Number(args.blocks ?? 9);
const REQUESTS = Number(args.requests ?? 2000);
const ONLY = (args.only ?? 'bare,noop,memory,pino').split(',');

function app(middleware) {
  const a = express();
  a.use(express.json());
  for (const m of middleware) a.use(m);
  const users = express.Router();
  users.post('/', (req, res) => res.status(201).json({ _id: '65a1b2c3d4e5f60718293a4b', ...req.body }));
  users.put('/:id', (req, res) => res.json({ _id: req.params.id, ...req.body }));
  a.use('/api/users', users);
  return a;
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eal-capture-'));
const VARIANTS = {
  bare: () => ({ app: app([]), close: async () => undefined }),
  noop: () => {
    const audit = auditLog({ store: noopStore(), routes: false });
    return { app: app([audit]), close: () => audit.close() };
  },
  memory: () => {
    const audit = auditLog({ store: memoryStore(), routes: false });
    return { app: app([audit]), close: () => audit.close() };
  },
  journal: () => {
    const audit = auditLog({ store: memoryStore(), routes: false, spoolDir: fs.mkdtempSync(path.join(dir, 'spool-')), durability: 'journal' });
    return { app: app([audit]), close: () => audit.close() };
  },
  pino: () => {
    const pino = require('pino');
    const dest = pino.destination({ dest: path.join(dir, 'pino.log'), sync: false });
    return { app: app([require('pino-http')({ logger: pino(dest) })]), close: async () => dest.end() };
  },
};

const BODY = JSON.stringify({ name: 'Ada Lovelace', email: 'ada@example.com', password: 'hunter2', roles: ['admin', 'user'], age: 36 });

async function load(port, agent, n) {
  for (let i = 0; i < n; i++) {
    await new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port,
          agent,
          method: i % 2 ? 'PUT' : 'POST',
          path: i % 2 ? `/api/users/u${i}` : '/api/users',
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(BODY) },
        },
        (res) => {
          res.resume();
          res.on('end', resolve);
        },
      );
      req.on('error', reject);
      req.end(BODY);
    });
  }
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function main() {
  const running = {};
  for (const name of ONLY) {
    const variant = VARIANTS[name]();
    const server = variant.app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    running[name] = { ...variant, server, port: server.address().port, agent: new http.Agent({ keepAlive: true, maxSockets: 1 }), samples: [] };
  }
  for (let block = 0; block < BLOCKS + 1; block++) {
    const order = ONLY.slice(block % ONLY.length).concat(ONLY.slice(0, block % ONLY.length));
    for (const name of order) {
      const r = running[name];
      const before = process.cpuUsage();
      await load(r.port, r.agent, REQUESTS);
      const used = process.cpuUsage(before);
      if (block > 0) r.samples.push((used.user + used.system) / REQUESTS); // block 0 warms up
    }
  }
  const base = median(running.bare?.samples ?? [0]);
  console.log(`CPU µs per request (process, all threads), median of ${BLOCKS} blocks of ${REQUESTS}; client included, same in every variant`);
  for (const name of ONLY) {
    const m = median(running[name].samples);
    console.log(
      `${name.padEnd(8)} ${m.toFixed(1).padStart(7)}   ${name === 'bare' ? '' : `+${(m - base).toFixed(1)} µs`}   spread ${Math.min(...running[name].samples).toFixed(1)}–${Math.max(...running[name].samples).toFixed(1)}`,
    );
  }
  for (const r of Object.values(running)) {
    r.agent.destroy();
    await new Promise((resolve) => r.server.close(resolve));
    await r.close();
  }
  fs.rmSync(dir, { recursive: true, force: true });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
