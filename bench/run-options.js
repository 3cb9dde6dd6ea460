'use strict';
/**
 * bench/run.js's options: what each means for the run (rounds, durations, scenarios) and which
 * frameworks and variants `--frameworks` and `--only` select. No side effect: the tests call it.
 */
const { VARIANTS, FRAMEWORKS, frameworkOf, ALIASES } = require('./variants');
const { list, UsageError } = require('./args');

const KNOWN_OPTIONS = ['quick', 'frameworks', 'only', 'scenarios', 'rounds', 'duration', 'list-sizes', 'cpu-prof', 'help'];

/**
 * The run's settings from the parsed command line (bench/args.js); `scenarioNames` are the
 * scenarios run.js knows. Mistakes are UsageErrors naming what would work.
 */
function config(args, scenarioNames) {
  const quick = Boolean(args.quick);
  const c = quick
    ? {
        rounds: 3, // 1 warm-up + 2 measured
        warmupSeconds: 1,
        durations: { mixed: 2, latency: 1, get: 1, sizes: 1, list: 2 },
        listSizes: [10000],
      }
    : {
        rounds: 6, // 1 warm-up + 5 measured
        warmupSeconds: 3,
        durations: { mixed: 10, latency: 10, get: 5, sizes: 5, list: 10 },
        listSizes: [10000, 100000],
      };
  c.quick = quick;
  c.connections = 50;
  c.listConnections = 1; // list-route latency is a service time, not a queue at 50 connections
  c.listWarmupSeconds = 1;
  c.bodySize = 100;
  // The fixed-rate scenario's load: well below what the slowest store sustains (~4,400 req/s
  // here), so the latency it reports is service time, not a queue.
  c.fixedRate = 2000;
  c.sizes = [100, 10 * 1024, 100 * 1024];
  if (args.rounds) c.rounds = Math.max(2, Math.min(50, Number(args.rounds)));
  if (args.duration) {
    const d = Math.max(0.5, Math.min(120, Number(args.duration)));
    for (const k of Object.keys(c.durations)) c.durations[k] = d;
  }
  if (args['list-sizes'])
    c.listSizes = list(args['list-sizes'])
      .map(Number)
      .filter((n) => n > 0 && n <= 1e6);
  c.cpuProf = Boolean(args['cpu-prof']);
  c.scenarios = args.scenarios ? list(args.scenarios) : [...scenarioNames];
  for (const s of c.scenarios) if (!scenarioNames.includes(s)) throw new UsageError(`unknown scenario ${s} (${scenarioNames.join(', ')})`);
  c.frameworks = args.frameworks ? list(args.frameworks) : Object.keys(FRAMEWORKS);
  for (const f of c.frameworks) if (!FRAMEWORKS[f]) throw new UsageError(`unknown framework ${f} (${Object.keys(FRAMEWORKS).join(', ')})`);
  c.only = args.only ? selectVariants(list(args.only), c.frameworks) : null;
  if (c.only) c.frameworks = c.frameworks.filter((f) => [...c.only].some((v) => frameworkOf(v) === f));
  return c;
}

/**
 * `--only` names: a full name (`fastify-memory`), or a short one (`memory`, `pino`, an alias) that
 * means that variant on every framework in `frameworks` that has it. Each framework named gets its
 * baseline added: every ratio needs it. A name no framework has is a UsageError.
 */
function selectVariants(names, frameworks) {
  const selected = new Set();
  const selectable = (v) => VARIANTS[v] && v !== 'file-list' && frameworks.includes(frameworkOf(v));
  for (const name of names) {
    const short = ALIASES[name] || name;
    const matches = [short, ...frameworks.map((f) => `${f}-${short}`)].filter(selectable);
    if (!matches.length) {
      const known = Object.keys(VARIANTS).filter(selectable);
      throw new UsageError(`unknown variant ${name} for ${frameworks.join(', ')} (${known.join(', ')})`);
    }
    for (const v of matches) selected.add(v);
  }
  for (const v of [...selected]) selected.add(FRAMEWORKS[frameworkOf(v)].baseline);
  return selected;
}

module.exports = { KNOWN_OPTIONS, config, selectVariants };
