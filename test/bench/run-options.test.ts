/**
 * bench/run.js's command line: which frameworks and variants --frameworks and --only select.
 * The benchmark is not run here; these are its option rules.
 */
const { config } = require('../../bench/run-options');
const { parseArgs, UsageError } = require('../../bench/args');

const SCENARIOS = ['mixed', 'latency', 'get', 'sizes', 'list'];
const optionsOf = (...argv: string[]) => config(parseArgs(argv), SCENARIOS);

describe('bench/run.js options', () => {
  it('runs every framework, and every variant of each, by default', () => {
    const c = optionsOf('--quick');
    expect(c.frameworks).toEqual(['express', 'fastify', 'hapi']);
    expect(c.only).toBeNull();
  });

  it('--frameworks picks the frameworks; an unknown one is a usage error naming the known ones', () => {
    expect(optionsOf('--frameworks=fastify,hapi').frameworks).toEqual(['fastify', 'hapi']);
    expect(() => optionsOf('--frameworks=koa')).toThrow(UsageError);
    expect(() => optionsOf('--frameworks=koa')).toThrow(/unknown framework koa \(express, fastify, hapi\)/);
  });

  it('--only=memory means the memory store on every selected framework, each with its own bare app', () => {
    const c = optionsOf('--only=memory');
    expect([...c.only].sort()).toEqual(['bare', 'fastify-bare', 'fastify-memory', 'hapi-bare', 'hapi-memory', 'memory']);
    expect(c.frameworks).toEqual(['express', 'fastify', 'hapi']);
  });

  it('--only with a full name runs that framework alone, with its bare app and not Express', () => {
    const c = optionsOf('--only=fastify-file');
    expect([...c.only].sort()).toEqual(['fastify-bare', 'fastify-file']);
    expect(c.frameworks).toEqual(['fastify']);
  });

  it('--only=pino is each framework’s usual logger: pino-http, Fastify’s built-in pino, hapi-pino', () => {
    const c = optionsOf('--only=pino', '--frameworks=fastify,hapi');
    expect([...c.only].sort()).toEqual(['fastify-bare', 'fastify-pino', 'hapi-bare', 'hapi-pino']);
  });

  it('refuses a variant the selected frameworks do not have, listing the ones they have', () => {
    expect(() => optionsOf('--only=winston', '--frameworks=fastify')).toThrow(
      /unknown variant winston for fastify \(fastify-bare, fastify-pino, fastify-memory/,
    );
  });
});

describe('bench argument parser', () => {
  it('reads --name=value and --flag, and refuses options it does not know', () => {
    expect(parseArgs(['--rounds=3', '--quick'], ['rounds', 'quick'])).toEqual({ rounds: '3', quick: true });
    expect(() => parseArgs(['--round=3'], ['rounds', 'quick'])).toThrow(/unknown option --round \(--rounds, --quick\)/);
    expect(() => parseArgs(['rounds'], ['rounds'])).toThrow(/unknown argument rounds/);
  });
});
