'use strict';
/**
 * Statistics and the markdown report. Pure functions over the raw results that run.js records:
 *   runs: [{ scenario, round, warmup, variant, size?, rps, p50, p99, cpuUsPerReq, rssPeak, ... }]
 * Every comparison with bare is made within the same round (and the same body size), then
 * summarized over the measured rounds as median and min–max.
 */

/** A load window where other processes used more than this fraction of the machine is flagged. */
const NOISY = 0.05;

function median(xs) {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** p50 and p99 of raw response times (ms), by the nearest-rank method; null when there are none. */
function latencyPercentiles(latencies) {
  const sorted = Float64Array.from(latencies).sort();
  const at = (q) => (sorted.length === 0 ? null : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]);
  return { p50: at(0.5), p99: at(0.99) };
}

function spread(xs) {
  const v = xs.filter((x) => x != null && Number.isFinite(x));
  if (v.length === 0) return { median: null, min: null, max: null, n: 0 };
  return { median: median(v), min: Math.min(...v), max: Math.max(...v), n: v.length };
}

/**
 * One row per variant (and size): absolute numbers and the same-round differences to the
 * baseline (`bare` unless named: each framework has its own), and, when a `logger` variant is
 * named, the same-round throughput ratio and added CPU against it too.
 * `runs` are the measured (non-warm-up) runs of one scenario on one framework.
 */
function summarize(runs, variants, { key = () => '', baseline: baselineVariant = 'bare', logger = null } = {}) {
  const sameRound = (variant) => {
    const m = new Map(); // `${round}|${key}` → that variant's run
    for (const r of runs) if (r.variant === variant) m.set(`${r.round}|${key(r)}`, r);
    return m;
  };
  const baseline = sameRound(baselineVariant);
  const loggerRuns = logger ? sameRound(logger) : null;
  const groups = new Map();
  for (const r of runs) {
    const k = `${key(r)}|${r.variant}`;
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k).push(r);
  }
  const rows = [];
  for (const [k, rs] of groups) {
    const pairs = rs.map((r) => [r, baseline.get(`${r.round}|${key(r)}`)]).filter(([, b]) => b);
    rows.push({
      key: k.slice(0, k.lastIndexOf('|')),
      variant: rs[0].variant,
      size: rs[0].size ?? null,
      rounds: rs.length,
      rps: spread(rs.map((r) => r.rps)),
      p50: spread(rs.map((r) => r.p50)),
      p99: spread(rs.map((r) => r.p99)),
      cpuUsPerReq: spread(rs.map((r) => r.cpuUsPerReq)),
      rssPeakMB: Math.max(...rs.map((r) => r.rssPeak / 1048576)),
      storeCpuUsPerReq: spread(rs.map((r) => r.storeCpuUsPerReq)),
      ratio: spread(pairs.map(([r, b]) => r.rps / b.rps)),
      addP50: spread(pairs.map(([r, b]) => r.p50 - b.p50)),
      addP99: spread(pairs.map(([r, b]) => r.p99 - b.p99)),
      addCpuUs: spread(pairs.map(([r, b]) => r.cpuUsPerReq - b.cpuUsPerReq)),
      otherCpuMax: rs.some((r) => r.otherCpu != null) ? Math.max(...rs.map((r) => r.otherCpu ?? 0)) : null,
      problems: rs.flatMap((r) => r.problems || []),
    });
    if (loggerRuns) {
      const vsLogger = rs.map((r) => [r, loggerRuns.get(`${r.round}|${key(r)}`)]).filter(([, l]) => l);
      Object.assign(rows[rows.length - 1], {
        baseline: baselineVariant,
        logger,
        ratioVsLogger: spread(vsLogger.map(([r, l]) => r.rps / l.rps)),
        addCpuUsVsLogger: spread(vsLogger.map(([r, l]) => r.cpuUsPerReq - l.cpuUsPerReq)),
      });
    }
  }
  const order = (v) => variants.indexOf(v);
  rows.sort((a, b) => (a.size ?? 0) - (b.size ?? 0) || order(a.variant) - order(b.variant));
  return rows;
}

/** Entries written vs mutating requests answered, per audit child. */
function auditChecks(finishes) {
  return finishes.map((f) => {
    const s = f.stats || {};
    const ok = f.error == null && f.closeError == null && s.written === f.mutatingAnswered;
    return { ...f, ok };
  });
}

// ------------------------------------------------------------------------------ formatting

const fmt = (x, d = 2) => (x == null || !Number.isFinite(x) ? '–' : x.toFixed(d));
const signed = (x, d = 2) => (x == null || !Number.isFinite(x) ? '–' : (x >= 0 ? '+' : '') + x.toFixed(d));
const int = (x) => (x == null || !Number.isFinite(x) ? '–' : Math.round(x).toLocaleString('en-US'));
const range = (s, d = 2) => (s.n ? `${fmt(s.min, d)}–${fmt(s.max, d)}` : '–');
const pct = (x) => (x == null || !Number.isFinite(x) ? '–' : `${Math.round(x * 100)}%`);
const sizeLabel = (b) => (b >= 1024 ? `${Math.round(b / 1024)} KB` : `${b} B`);

function table(header, rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** The mongo test server's CPU is not in the app's column: say how much it was. */
function storeNote(rows, labels) {
  const r = rows.find((x) => x.storeCpuUsPerReq.n);
  if (!r) return '';
  return (
    `\n\n${labels[r.variant] || r.variant}: the wire-protocol test server (its own process, not in the CPU column) ` +
    `used another ${fmt(r.storeCpuUsPerReq.median, 1)} µs per request.`
  );
}

function loadTable(rows, labels) {
  return table(
    ['Variant', 'req/s', '× bare (median)', '× bare min–max', '+p50 ms', '+p99 ms', 'p99 ms', 'CPU µs/req', '+CPU µs/req', 'peak RSS MB', 'others’ CPU (max)'],
    rows.map((r) => [
      labels[r.variant] || r.variant,
      int(r.rps.median),
      r.variant === 'bare' ? '1' : fmt(r.ratio.median, 3),
      r.variant === 'bare' ? '–' : range(r.ratio, 3),
      r.variant === 'bare' ? '–' : signed(r.addP50.median),
      r.variant === 'bare' ? '–' : signed(r.addP99.median),
      fmt(r.p99.median),
      fmt(r.cpuUsPerReq.median, 1),
      r.variant === 'bare' ? '–' : signed(r.addCpuUs.median, 1),
      fmt(r.rssPeakMB, 0),
      pct(r.otherCpuMax),
    ]),
  );
}

/**
 * A Fastify or Hapi table: the Express columns against that framework's bare app, plus the
 * comparison with the framework's usual request logger, in the same round, and each audit
 * process's entries check (`checks`: auditChecks() of this scenario).
 */
function frameworkTable(rows, labels, baseline, logger, checks = []) {
  const isBase = (r) => r.variant === baseline;
  // The logger columns only where the logger ran (the GET-only scenario leaves it out).
  const withLogger = rows.some((r) => r.variant === logger);
  const entries = (r) => {
    const c = checks.find((x) => x.variant === r.variant);
    if (!c) return '–';
    const written = c.stats?.written;
    return c.ok ? `${int(written)} = ${int(c.mutatingAnswered)}` : `**MISMATCH** ${int(written)} ≠ ${int(c.mutatingAnswered)}`;
  };
  const vsLogger = (r) =>
    !withLogger
      ? []
      : r.variant === logger
        ? ['–', '–']
        : [r.ratioVsLogger?.n ? fmt(r.ratioVsLogger.median, 3) : '–', r.addCpuUsVsLogger?.n ? signed(r.addCpuUsVsLogger.median, 1) : '–'];
  return table(
    [
      'Variant',
      'req/s',
      '× bare (median)',
      '× bare min–max',
      '+p50 ms',
      '+p99 ms',
      'p99 ms',
      'CPU µs/req',
      '+CPU µs/req',
      ...(withLogger ? ['× logger (median)', 'CPU vs logger µs/req'] : []),
      'peak RSS MB',
      'others’ CPU (max)',
      'entries written = mutating answered',
    ],
    rows.map((r) => [
      labels[r.variant] || r.variant,
      int(r.rps.median),
      isBase(r) ? '1' : fmt(r.ratio.median, 3),
      isBase(r) ? '–' : range(r.ratio, 3),
      isBase(r) ? '–' : signed(r.addP50.median),
      isBase(r) ? '–' : signed(r.addP99.median),
      fmt(r.p99.median),
      fmt(r.cpuUsPerReq.median, 1),
      isBase(r) ? '–' : signed(r.addCpuUs.median, 1),
      ...vsLogger(r),
      fmt(r.rssPeakMB, 0),
      pct(r.otherCpuMax),
      entries(r),
    ]),
  );
}

/** How the CPU overhead grows with the body: growth factor between sizes vs the size factor. */
function growth(rows) {
  const out = [];
  const byVariant = new Map();
  for (const r of rows) {
    if (r.variant === 'bare') continue;
    if (!byVariant.has(r.variant)) byVariant.set(r.variant, []);
    byVariant.get(r.variant).push(r);
  }
  for (const [variant, rs] of byVariant) {
    rs.sort((a, b) => a.size - b.size);
    for (let i = 1; i < rs.length; i++) {
      const a = rs[i - 1];
      const b = rs[i];
      const sizeFactor = b.size / a.size;
      const overheadFactor = b.addCpuUs.median / a.addCpuUs.median;
      out.push({ variant, from: a.size, to: b.size, sizeFactor, overheadFactor, a: a.addCpuUs.median, b: b.addCpuUs.median });
    }
  }
  return out;
}

function sizesTable(rows, labels) {
  return table(
    ['Body', 'Variant', 'req/s', '× bare (median)', '× bare min–max', '+p99 ms', 'CPU µs/req', '+CPU µs/req', '+CPU µs per KB of body', 'others’ CPU (max)'],
    rows.map((r) => [
      sizeLabel(r.size),
      labels[r.variant] || r.variant,
      int(r.rps.median),
      r.variant === 'bare' ? '1' : fmt(r.ratio.median, 3),
      r.variant === 'bare' ? '–' : range(r.ratio, 3),
      r.variant === 'bare' ? '–' : signed(r.addP99.median),
      fmt(r.cpuUsPerReq.median, 1),
      r.variant === 'bare' ? '–' : signed(r.addCpuUs.median, 1),
      r.variant === 'bare' || r.size < 1024 ? '–' : fmt(r.addCpuUs.median / (r.size / 1024), 2),
      pct(r.otherCpuMax),
    ]),
  );
}

// ------------------------------------------------------------------------------ targets

function findRow(rows, variant, size) {
  return rows.find((r) => r.variant === variant && (size == null || r.size === size)) || null;
}

function verdict(pass) {
  if (pass == null) return 'not measured';
  return pass ? 'PASS' : '**FAIL**';
}

/** The lead's targets, each computed from the tables above; null = not measured in this run. */
function targets(summary) {
  const mixed = summary.mixed || [];
  const get = summary.get || [];
  const sizes = summary.sizes || [];
  const list = summary.list || [];
  const t = [];
  const ratio = (rows, v) => findRow(rows, v)?.ratio.median ?? null;

  const mem = ratio(mixed, 'memory');
  const pino = ratio(mixed, 'pino');
  t.push({
    target: 'memory store ≥ 0.88× bare and ahead of pino-http (mixed writes)',
    measured: `memory ${fmt(mem, 3)}×, pino-http ${fmt(pino, 3)}×`,
    pass: mem == null || pino == null ? null : mem >= 0.88 && mem > pino,
  });
  const file = ratio(mixed, 'file');
  const winston = ratio(mixed, 'winston');
  t.push({
    target: 'file store ≥ 0.80× bare and ahead of express-winston (mixed writes)',
    measured: `file ${fmt(file, 3)}×, express-winston ${fmt(winston, 3)}×`,
    pass: file == null || winston == null ? null : file >= 0.8 && file > winston,
  });

  const control = findRow(get, 'control');
  for (const v of ['memory', 'file', 'mongo']) {
    const r = findRow(get, v);
    if (!r) continue;
    const inside = control && control.ratio.n ? r.ratio.median >= control.ratio.min && r.ratio.median <= control.ratio.max : null;
    t.push({
      target: `GET-only: ${v} store indistinguishable from bare (median inside the A/A control's min–max)`,
      measured: `${fmt(r.ratio.median, 3)}× vs control ${control ? range(control.ratio, 3) : '–'}`,
      pass: inside,
    });
  }
  // p99 is judged at the fixed rate when that scenario ran: at full load it measures queueing.
  const latency = summary.latency || [];
  const p99Rows = latency.length ? latency : mixed;
  const p99Where = latency.length ? `writes at a fixed ${int(summary.latencyRate)} req/s` : 'mixed writes, saturated';
  for (const v of ['memory', 'file', 'mongo']) {
    const r = findRow(p99Rows, v);
    if (!r) continue;
    t.push({
      target: `added p99 ≤ 1 ms (${v} store, ${p99Where})`,
      measured: `${signed(r.addP99.median)} ms (min–max ${range(r.addP99)})`,
      pass: r.addP99.median <= 1,
    });
  }
  for (const v of ['memory', 'file', 'mongo']) {
    const r = findRow(mixed, v);
    if (!r) continue;
    t.push({
      target: `CPU overhead ≤ 30 µs/request at 100 B (${v} store, mixed writes)`,
      measured: `${signed(r.addCpuUs.median, 1)} µs/req`,
      pass: r.addCpuUs.median <= 30,
    });
  }
  // The CPU budget is the audit log's own cost, whatever the framework: the same target per adapter.
  for (const [framework, tables] of Object.entries(summary.frameworks || {})) {
    for (const r of tables.mixed || []) {
      const store = /-(memory|file|mongo)$/.exec(r.variant)?.[1];
      if (!store || !r.addCpuUs.n) continue;
      t.push({
        target: `CPU overhead ≤ 30 µs/request at 100 B (${framework}, ${store} store, mixed writes, against bare ${framework})`,
        measured: `${signed(r.addCpuUs.median, 1)} µs/req`,
        pass: r.addCpuUs.median <= 30,
      });
    }
  }
  for (const g of growth(sizes).filter((x) => x.variant === 'memory')) {
    t.push({
      target: `overhead grows no worse than linearly (memory store, ${sizeLabel(g.from)} → ${sizeLabel(g.to)})`,
      measured: `+CPU ${fmt(g.a, 1)} → ${fmt(g.b, 1)} µs/req: ×${fmt(g.overheadFactor, 1)} for ×${fmt(g.sizeFactor, 0)} the bytes`,
      pass: Number.isFinite(g.overheadFactor) ? g.overheadFactor <= g.sizeFactor : null,
    });
  }
  const big = list.find((l) => l.entries === 100000);
  t.push({
    target: 'list-route p50 < 50 ms at 100k entries (file store)',
    measured: big ? `${fmt(big.p50)} ms` : 'not run (quick mode lists 10k only, or --list-sizes)',
    pass: big ? big.p50 < 50 : null,
  });
  const integrity = summary.audit || [];
  t.push({
    target: 'audit entries written = mutating requests answered (every audit child)',
    measured: integrity.length ? `${integrity.filter((c) => c.ok).length}/${integrity.length} children equal` : 'no audit variant ran',
    pass: integrity.length ? integrity.every((c) => c.ok) : null,
  });
  return t;
}

// ------------------------------------------------------------------------------ markdown

function markdown(results) {
  const { meta, summary } = results;
  const labels = meta.labels;
  const out = [];
  out.push(`# express-audit-log benchmark${meta.quick ? ' (quick mode: indicative only)' : ''}`);
  out.push('');
  out.push(
    `Machine: ${meta.cpu} × ${meta.cores} cores, ${meta.memGB} GB RAM, ${meta.platform}; Node ${meta.node}; ` +
      `express-audit-log ${meta.packageVersion}; ${meta.date}.`,
  );
  out.push(
    `Load: autocannon in the parent, ${meta.config.connections} connections, no pipelining, to one app per variant ` +
      `in its own process on 127.0.0.1. ${meta.config.rounds} interleaved rounds (variant order rotated each round); ` +
      `round 1 is warm-up and discarded, so medians and min–max are over ${meta.config.rounds - 1} rounds. ` +
      // The Express chain when Express ran (or the results predate the other frameworks).
      (meta.config.frameworks && !meta.config.frameworks.includes('express')
        ? 'Each framework runs its own rounds and is compared with its own bare app.'
        : `Chain: express.json() → variant → stateless routes.`),
  );
  const others = (results.runs || []).filter((r) => !r.warmup && r.otherCpu != null).map((r) => r.otherCpu);
  if (others.length) {
    const noisy = others.filter((x) => x > NOISY).length;
    out.push('');
    out.push(
      `Noise: other processes on this machine used a median ${pct(median(others))} and at most ${pct(Math.max(...others))} of its CPU ` +
        `during the measured load windows` +
        (noisy ? `; **${noisy} of ${others.length} windows were over ${pct(NOISY)}: treat this run as contaminated and re-run on a quiet machine.**` : '.'),
    );
  }
  if (meta.skipped && Object.keys(meta.skipped).length) {
    out.push('');
    out.push(
      '**Not run:** ' +
        Object.entries(meta.skipped)
          .map(([v, why]) => `${v} (${why})`)
          .join('; '),
    );
  }
  out.push('');
  out.push(
    '`× bare`: throughput divided by bare’s in the same round. `+p50`/`+p99`: latency minus bare’s in the same round ' +
      '(at 50 connections the server is saturated, so latency is mostly queueing). `CPU µs/req`: user+system CPU of the ' +
      'app process over the load window (including the drain of queued writes after it) divided by the requests it answered. ' +
      '`peak RSS`: highest sampled RSS of the app process during any measured window. `others’ CPU`: share of the machine used by ' +
      'processes outside the benchmark during the load (anything above a few % skews the row). The A/A control’s min–max is the noise floor.',
  );

  if (summary.mixed) {
    out.push('');
    out.push(`## Writes: POST / PUT / DELETE, 100 B bodies (${meta.config.durations.mixed} s per run)`);
    out.push('');
    out.push(loadTable(summary.mixed, labels) + storeNote(summary.mixed, labels));
  }
  if (summary.latency) {
    out.push('');
    out.push(`## Latency at a fixed rate: the same writes at ${int(summary.latencyRate)} req/s (${meta.config.durations.latency} s per run)`);
    out.push('');
    out.push(
      'Requests issued evenly (open loop, bench/paced.js, 50 keep-alive sockets) below every variant’s saturation point, so ' +
        '`+p50`/`+p99` are what each request costs in time rather than queueing; the throughput ratio is ~1 by construction.',
    );
    out.push('');
    out.push(loadTable(summary.latency, labels) + storeNote(summary.latency, labels));
  }
  if (summary.get) {
    out.push('');
    out.push(`## Reads: GET only, not recorded (${meta.config.durations.get} s per run)`);
    out.push('');
    out.push(loadTable(summary.get, labels) + storeNote(summary.get, labels));
  }
  if (summary.sizes) {
    out.push('');
    out.push(`## Cost as the body grows: POST only (${meta.config.durations.sizes} s per run)`);
    out.push('');
    out.push(sizesTable(summary.sizes, labels));
    out.push('');
    out.push(
      'Each size runs on fresh processes. A body over the audit’s `maxFieldBytes` (64 KiB by default when this bench was ' +
        'written) is stored as a truncation marker, so the 100 KB row prices capturing and measuring the body, not storing it.',
    );
    const g = growth(summary.sizes);
    if (g.length) {
      out.push('');
      out.push('Growth of the added CPU per request between sizes (linear or better means the factor is ≤ the byte factor):');
      out.push('');
      out.push(
        table(
          ['Variant', 'From → to', '+CPU µs/req', 'overhead ×', 'bytes ×'],
          g.map((x) => [
            labels[x.variant] || x.variant,
            `${sizeLabel(x.from)} → ${sizeLabel(x.to)}`,
            `${fmt(x.a, 1)} → ${fmt(x.b, 1)}`,
            fmt(x.overheadFactor, 1),
            fmt(x.sizeFactor, 0),
          ]),
        ),
      );
    }
  }
  for (const [framework, tables] of Object.entries(summary.frameworks || {})) {
    const { label, baseline, logger } = meta.frameworks?.[framework] || { label: framework };
    out.push('');
    out.push(`## ${label}: the same routes, against bare ${label} and its usual request logger`);
    out.push('');
    out.push(
      `Chain: ${label}'s own JSON body parsing → the variant's plugin (or logger) → the same stateless routes. ` +
        '`× bare` and `+CPU` are against the bare app of this framework in the same round; `× logger` is throughput divided ' +
        `by ${labels[logger] || logger}’s, and \`CPU vs logger\` the CPU per request minus its, in the same round ` +
        '(negative: cheaper than the logger).',
    );
    const titles = {
      mixed: `Writes: POST / PUT / DELETE, 100 B bodies (${meta.config.durations.mixed} s per run)`,
      get: `Reads: GET only, not recorded (${meta.config.durations.get} s per run)`,
    };
    for (const [name, rows] of Object.entries(tables)) {
      out.push('');
      out.push(`### ${titles[name] || name}`);
      out.push('');
      const checks = (summary.audit || []).filter((c) => c.scenario === name);
      out.push(frameworkTable(rows, labels, baseline, logger, checks) + storeNote(rows, labels));
    }
  }
  if (summary.list) {
    out.push('');
    out.push(
      `## List route on the file store (${meta.config.listConnections} connection${meta.config.listConnections > 1 ? 's' : ''}, ${meta.config.durations.list} s per size)`,
    );
    out.push('');
    out.push('`GET ' + (summary.list[0]?.path || '/auditLog?user=u1&from=…&to=…&$limit=50') + '`');
    out.push('');
    out.push(
      table(
        ['Entries', 'matching / returned', 'pre-fill s', 'p50 ms', 'p99 ms', 'req/s', 'non-2xx', 'peak RSS MB', 'others’ CPU'],
        summary.list.map((l) => [
          int(l.entries),
          `${int(l.matched)} / ${int(l.returned)}`,
          fmt(l.prefillMs / 1000, 1),
          fmt(l.p50),
          fmt(l.p99),
          int(l.rps),
          int(l.non2xx),
          fmt(l.rssPeak / 1048576, 0),
          pct(l.otherCpu),
        ]),
      ),
    );
  }
  if (summary.audit && summary.audit.length) {
    out.push('');
    out.push('## Audit integrity: entries written vs mutating requests answered (after `audit.close()`)');
    out.push('');
    out.push(
      table(
        ['Scenario', 'Variant', 'mutating answered', 'aborted by client', 'recorded', 'written', 'failed', 'dropped', 'queued', 'check'],
        summary.audit.map((c) => [
          c.scenario,
          labels[c.variant] || c.variant,
          int(c.mutatingAnswered),
          int(c.mutatingAborted),
          int(c.stats?.recorded),
          int(c.stats?.written),
          int(c.stats?.failed),
          int(c.stats?.dropped),
          int(c.stats?.queued),
          c.ok ? 'equal' : `**MISMATCH**${c.error || c.closeError ? ` (${String(c.error || c.closeError).split('\n')[0]})` : ''}`,
        ]),
      ),
    );
  }
  out.push('');
  out.push('## Targets');
  out.push('');
  if (others.length && others.some((x) => x > NOISY)) {
    out.push('_Other processes loaded the machine during this run (see Noise above): these verdicts are not reliable._');
    out.push('');
  }
  out.push(
    table(
      ['Target', 'Measured', 'Verdict'],
      targets(summary).map((t) => [t.target, t.measured, verdict(t.pass)]),
    ),
  );
  const problems = results.problems || [];
  if (problems.length) {
    out.push('');
    out.push('## Problems seen during the run');
    out.push('');
    for (const p of problems) out.push(`- ${p}`);
  }
  out.push('');
  return out.join('\n');
}

module.exports = { median, spread, latencyPercentiles, summarize, auditChecks, targets, markdown, growth, frameworkTable };
