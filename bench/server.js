'use strict';
/**
 * The benchmarked app, one process per variant: `node bench/server.js <variant>`, forked by
 * run.js with an IPC channel. Environment: BENCH_DIR (temp dir for log files and stores),
 * BENCH_MONGO_URI (mongo variant), BENCH_LIST_SIZE (file-list variant).
 *
 * The app (bench/apps/<framework>.js): the counter, the framework's JSON body parsing, the
 * variant's middleware or plugins, then stateless routes (apps/items.js), so the only difference
 * between the variants of one framework is what they mount. The counter only counts answered
 * requests (for CPU/request and the audit check); it is the same for every variant.
 *
 * IPC (parent → child, each answered with the same `id`):
 *   begin   reset the window: CPU snapshot, RSS sampling, request counters
 *   end     let async work settle (audit queue drained, loggers flushed), then report the window
 *   finish  audit.close(), then audit.stats() and the lifetime count of mutating requests answered
 *   exit    teardown, then exit (so that --cpu-prof writes its profile)
 */
const { VARIANTS, frameworkOf } = require('./variants');

/** One app builder per framework (bench/apps/), loaded only for the framework this process runs. */
const APPS = {
  express: () => require('./apps/express'),
  fastify: () => require('./apps/fastify'),
  hapi: () => require('./apps/hapi'),
};

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

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Waits (bounded) until the work the load left behind is done: the audit queue is empty and the
 * process has been idle (under 5% of a core) for 150 ms. Loggers that buffer (winston, pino's async
 * destination) keep writing after the load; that CPU belongs to this variant's window, and must
 * not run during the next variant's window. Returns false if it did not settle in time.
 */
async function settle(audit) {
  const deadline = Date.now() + SETTLE_MAX_MS;
  let quietTicks = 0;
  let prev = process.cpuUsage();
  while (Date.now() < deadline) {
    await sleep(SETTLE_TICK_MS);
    const d = process.cpuUsage(prev);
    prev = process.cpuUsage();
    const busy = (d.user + d.system) / (SETTLE_TICK_MS * 1000);
    const queued = audit ? audit.stats().queued : 0;
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
  const app = await APPS[frameworkOf(variantName)]().listen(variant, counter);
  const { server, audit } = app;

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
      const settled = await settle(audit);
      const cpu = process.cpuUsage(cpuStart);
      clearInterval(sampler);
      sampleRss();
      const result = {
        cpuUs: cpu.user + cpu.system,
        answered: current.answered,
        non2xx: current.non2xx,
        rssPeak,
        settled,
        queued: audit ? audit.stats().queued : 0,
      };
      if (variant.reset) variant.reset();
      return result;
    },
    async finish() {
      let stats = null;
      let closeError = null;
      if (audit) {
        try {
          await audit.close();
        } catch (err) {
          closeError = String((err && err.stack) || err);
        }
        stats = audit.stats();
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
      await Promise.race([app.close().then(variant.teardown), sleep(5000)]);
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
