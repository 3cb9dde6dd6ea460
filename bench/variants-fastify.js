'use strict';
/**
 * The Fastify 5 variants (see variants.js for the Express ones). Each returns
 *   { appOptions?: object,                 // passed to fastify(): the logger variant's logger
 *     register?: async (app) => handle,    // registers the audit plugin, returns app.auditLog
 *     reset?: () => void, teardown: () => Promise }
 * `ctx` is the same as for Express: { dir, mongoUri }.
 */
const { pinoFile, auditPackage, auditStore } = require('./variant-kit');

function bare() {
  return { teardown: async () => {} };
}

/**
 * Fastify's built-in logger, as `logger: true` configures it (level info, its request and
 * response serializers: an "incoming request" and a "request completed" line per request),
 * written to a file through pino's asynchronous destination like the Express pino variant.
 */
function pino(ctx) {
  const log = pinoFile(ctx, 'fastify-pino.log');
  return { appOptions: { logger: { level: 'info', stream: log.dest } }, reset: log.reset, teardown: log.close };
}

function audit(kind) {
  return (ctx) => {
    const pkg = auditPackage('/fastify');
    const { auditLogFastify } = pkg;
    const { store, release } = auditStore(kind, ctx, pkg);
    return {
      register: async (app) => {
        await app.register(auditLogFastify, { store, ttl: '1d' }); // awaiting loads it: app.auditLog exists
        return app.auditLog;
      },
      teardown: release,
    };
  };
}

const FASTIFY_VARIANTS = {
  'fastify-bare': { framework: 'fastify', label: 'Fastify bare (baseline)', build: bare },
  'fastify-pino': { framework: 'fastify', label: 'Fastify built-in pino logger → async file', logger: true, build: pino },
  'fastify-memory': { framework: 'fastify', label: 'Fastify + audit: memoryStore', audit: true, build: audit('memory') },
  'fastify-file': { framework: 'fastify', label: 'Fastify + audit: fileStore (SQLite)', audit: true, build: audit('file') },
  'fastify-mongo': { framework: 'fastify', label: 'Fastify + audit: mongoStore (wire test server)', audit: true, mongo: true, build: audit('mongo') },
};

module.exports = { FASTIFY_VARIANTS };
