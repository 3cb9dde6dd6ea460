/**
 * bench/report.js: the Fastify and Hapi rows are compared with their own framework's bare app and
 * logger in the same round, and rendered in a table of their own; the Express table is unchanged.
 * Synthetic runs: nothing is measured here.
 */
const report = require('../../bench/report');

type BenchRun = { variant: string; round: number; rps: number; cpuUsPerReq: number };
const benchRun = (variant: string, round: number, rps: number, cpuUsPerReq: number) => ({
  scenario: 'mixed',
  variant,
  round,
  warmup: false,
  rps,
  cpuUsPerReq,
  p50: 1,
  p99: 2,
  rssPeak: 64 * 1048576,
  otherCpu: 0,
  problems: [],
});

// Round 2 runs twice as fast as round 1 for bare and the logger: pairing across rounds would show it.
const fastifyRuns: BenchRun[] = [
  benchRun('fastify-bare', 1, 1000, 50),
  benchRun('fastify-pino', 1, 500, 100),
  benchRun('fastify-memory', 1, 800, 70),
  benchRun('fastify-bare', 2, 2000, 40),
  benchRun('fastify-pino', 2, 1000, 90),
  benchRun('fastify-memory', 2, 1000, 80),
];
const ORDER = ['fastify-bare', 'fastify-pino', 'fastify-memory'];

function meta() {
  return {
    quick: true,
    cpu: 'test cpu',
    cores: 2,
    memGB: 1,
    platform: 'test',
    node: 'v20',
    packageVersion: '0.1.0',
    date: '2026-11-28T00:00:00.000Z',
    config: { connections: 50, rounds: 3, listConnections: 1, durations: { mixed: 2, get: 1 } },
    labels: {
      bare: 'bare (baseline)',
      memory: 'audit: memoryStore',
      'fastify-bare': 'Fastify bare',
      'fastify-pino': 'Fastify pino',
      'fastify-memory': 'Fastify memory',
    },
    frameworks: { fastify: { label: 'Fastify 5', baseline: 'fastify-bare', logger: 'fastify-pino' } },
  };
}

describe('bench report: other frameworks', () => {
  it('takes each ratio against the framework’s bare app and logger of the same round', () => {
    const rows = report.summarize(fastifyRuns, ORDER, { baseline: 'fastify-bare', logger: 'fastify-pino' });
    const memory = rows.find((r: { variant: string }) => r.variant === 'fastify-memory');
    expect(memory.ratio.median).toBeCloseTo(0.65); // 800/1000 and 1000/2000
    expect(memory.addCpuUs.median).toBeCloseTo(30); // +20 and +40
    expect(memory.ratioVsLogger.median).toBeCloseTo(1.3); // 800/500 and 1000/1000
    expect(memory.addCpuUsVsLogger.median).toBeCloseTo(-20); // -30 and -10
  });

  it('renders a table per framework with the logger columns, the entries check, and a CPU target per audit store', () => {
    const rows = report.summarize(fastifyRuns, ORDER, { baseline: 'fastify-bare', logger: 'fastify-pino' });
    const audit = report.auditChecks([{ scenario: 'mixed', variant: 'fastify-memory', stats: { written: 1800 }, mutatingAnswered: 1800 }]);
    const summary = { frameworks: { fastify: { mixed: rows } }, audit };
    const md: string = report.markdown({ meta: meta(), summary, runs: fastifyRuns, problems: [] });
    expect(md).toContain('## Fastify 5: the same routes, against bare Fastify 5 and its usual request logger');
    expect(md).toContain('| × logger (median) | CPU vs logger µs/req |');
    expect(md).toContain('| Fastify memory | 900 | 0.650 | 0.500–0.800 | +0.00 | +0.00 | 2.00 | 75.0 | +30.0 | 1.300 | -20.0 | 64 | 0% | 1,800 = 1,800 |');
    const target = report.targets(summary).find((t: { target: string }) => t.target.includes('fastify, memory store'));
    expect(target).toMatchObject({ measured: '+30.0 µs/req', pass: true });
  });

  it('flags an audit process whose entries written differ from the writes it answered', () => {
    const rows = report.summarize(fastifyRuns, ORDER, { baseline: 'fastify-bare', logger: 'fastify-pino' });
    const audit = report.auditChecks([{ scenario: 'mixed', variant: 'fastify-memory', stats: { written: 1799 }, mutatingAnswered: 1800 }]);
    const md: string = report.markdown({ meta: meta(), summary: { frameworks: { fastify: { mixed: rows } }, audit }, runs: fastifyRuns, problems: [] });
    expect(md).toContain('| 64 | 0% | **MISMATCH** 1,799 ≠ 1,800 |');
  });

  it('leaves the Express table as it was: against bare, without logger columns', () => {
    const expressRuns = [benchRun('bare', 1, 1000, 50), benchRun('memory', 1, 900, 60)];
    const rows = report.summarize(expressRuns, ['bare', 'memory']);
    expect(rows[1].ratioVsLogger).toBeUndefined();
    const md: string = report.markdown({ meta: meta(), summary: { mixed: rows, audit: [] }, runs: expressRuns, problems: [] });
    expect(md).toContain(
      '| Variant | req/s | × bare (median) | × bare min–max | +p50 ms | +p99 ms | p99 ms | CPU µs/req | +CPU µs/req | peak RSS MB | others’ CPU (max) |',
    );
    expect(md).not.toContain('× logger');
  });
});
