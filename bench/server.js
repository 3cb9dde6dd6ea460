'use strict';
/**
 * The benchmarked app, one process per variant: `node bench/server.js <variant>`, forked by
 * run.js with an IPC channel. Environment: BENCH_DIR (temp dir for log files and stores),
 * BENCH_MONGO_URI (mongo variant), BENCH_LIST_SIZE (file-list variant).
 *
 * Chain: counter → express.json() → the variant's middleware → routes. The counter only counts
 * answered requests (for CPU/request and the audit check); it is the same for every variant.
 * The routes are stateless, so the only difference between variants is their middleware.
 *
 * IPC (parent → child, each answered with the same `id`):
 *   begin   reset the window: CPU snapshot, RSS sampling, request counters
 *   end     let async work settle (audit queue drained, loggers flushed), then report the window
 *   finish  audit.close(), then audit.stats() and the lifetime count of mutating requests answered
 *   exit    teardown, then exit (so that --cpu-prof writes its profile)
 */
const express = require('express');
const { VARIANTS } = require('./variants');

const variantName = process.argv[2];
const spec = VARIANTS[variantName];
if (!spec || !process.send) {
  console.error(`usage: forked by bench/run.js with a variant name (${Object.keys(VARIANTS).join(', ')})`);
  process.exit(2);
}

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const RSS_SAMPLE_MS = 50;
const SETTLE_MAX_MS = 30000;
const SETTLE_TICK_MS = 50;
const SETTLE_QUIET_TICKS = 3;
const SETTLE_IDLE_FRACTION = 0.05;

const totals = { mutatingAnswered: 0, mutatingAborted: 0, answered: 0 };
let current = { answered: 0, non2xx: 0 };

function counter(req, res, next) {
  let finished = false;
  res.once('finish', () => {
    finished = true;
    totals.answered++;
    current.answered++;
    if (res.statusCode >= 300) current.non2xx++;
    if (MUTATING.has(req.method)) totals.mutatingAnswered++;
  });
  res.once('close', () => {
    if (!finished && MUTATING.has(req.method)) totals.mutatingAborted++;
  });
  next();
}

let seq = 0;
const pid = process.pid.toString(16).padStart(8, '0');
function newId() {
  seq++;
  return pid + seq.toString(16).padStart(16, '0');
}

function buildApp(variant) {
  const app = express();
  app.disable('x-powered-by');
  app.use(counter);
  app.use(express.json({ limit: '1mb' })); // the size scenario posts 100 KB bodies
  for (const mw of variant.middleware) app.use(mw);
  app.post('/items', (req, res) => {
    res.status(201).json({ _id: newId(), ...req.body });
  });
  app.put('/items/:id', (req, res) => {
    res.json({ _id: req.params.id, ...req.body });
  });
  app.delete('/items/:id', (req, res) => {
    res.json({ _id: req.params.id, deleted: true });
  });
  app.get('/items/:id', (req, res) => {
    res.json({ _id: req.params.id, name: 'item', qty: 1, tags: ['a', 'b'] });
  });
  return app;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Waits (bounded) until the work the load left behind is done: the audit queue is empty and the
 * process has been idle (under 5% of a core) for 150 ms. Loggers that buffer (winston, pino's async
 * destination) keep writing after the load; that CPU belongs to this variant's window, and must
 * not run during the next variant's window. Returns false if it did not settle in time.
 */
async function settle(variant) {
  const deadline = Date.now() + SETTLE_MAX_MS;
  let quietTicks = 0;
  let prev = process.cpuUsage();
  while (Date.now() < deadline) {
    await sleep(SETTLE_TICK_MS);
    const d = process.cpuUsage(prev);
    prev = process.cpuUsage();
    const busy = (d.user + d.system) / (SETTLE_TICK_MS * 1000);
    const queued = variant.audit ? variant.audit.stats().queued : 0;
    quietTicks = busy < SETTLE_IDLE_FRACTION && queued === 0 ? quietTicks + 1 : 0;
    if (quietTicks >= SETTLE_QUIET_TICKS) return true;
  }
  return false;
}

async function main() {
  const ctx = {
    dir: process.env.BENCH_DIR,
    mongoUri: process.env.BENCH_MONGO_URI || null,
    listSize: Number(process.env.BENCH_LIST_SIZE || 0),
  };
  const variant = await spec.build(ctx);
  const app = buildApp(variant);
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  server.keepAliveTimeout = 60_000;

  let cpuStart = null;
  let rssPeak = 0;
  let sampler = null;
  const sampleRss = () => {
    rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
  };

  const handlers = {
    async begin() {
      current = { answered: 0, non2xx: 0 };
      rssPeak = 0;
      sampleRss();
      clearInterval(sampler);
      sampler = setInterval(sampleRss, RSS_SAMPLE_MS);
      cpuStart = process.cpuUsage();
      return {};
    },
    async end() {
      const settled = await settle(variant);
      const cpu = process.cpuUsage(cpuStart);
      clearInterval(sampler);
      sampleRss();
      const result = {
        cpuUs: cpu.user + cpu.system,
        answered: current.answered,
        non2xx: current.non2xx,
        rssPeak,
        settled,
        queued: variant.audit ? variant.audit.stats().queued : 0,
      };
      if (variant.reset) variant.reset();
      return result;
    },
    async finish() {
      let stats = null;
      let closeError = null;
      if (variant.audit) {
        try {
          await variant.audit.close();
        } catch (err) {
          closeError = String((err && err.stack) || err);
        }
        stats = variant.audit.stats();
      }
      return {
        stats,
        closeError,
        ...totals,
        maxRss: process.resourceUsage().maxRSS * 1024,
        info: variant.info || null,
      };
    },
    async exit() {
      clearInterval(sampler);
      server.closeAllConnections();
      server.close();
      await Promise.race([variant.teardown(), sleep(5000)]);
      setImmediate(() => process.exit(0));
      return {};
    },
  };

  process.on('message', async (msg) => {
    const handler = handlers[msg && msg.cmd];
    if (!handler) return;
    try {
      const result = await handler();
      process.send({ id: msg.id, ok: true, result });
    } catch (err) {
      process.send({ id: msg.id, ok: false, error: String((err && err.stack) || err) });
    }
  });
  process.send({ type: 'ready', port: server.address().port, info: variant.info || null });
}

// The parent going away (crash, Ctrl-C) must never leave a server behind.
process.on('disconnect', () => process.exit(0));

main().catch((err) => {
  process.send({ type: 'fatal', error: String((err && err.stack) || err) }, () => process.exit(1));
});
