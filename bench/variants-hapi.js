'use strict';
/**
 * The Hapi 21 variants (see variants.js for the Express ones). Each returns
 *   { register?: async (server) => handle,   // registers a plugin; the audit ones return its handle
 *     reset?: () => void, teardown: () => Promise }
 * `ctx` is the same as for Express: { dir, mongoUri }.
 */
const { pinoFile, auditPackage, auditStore } = require('./variant-kit');

function bare() {
  return { teardown: async () => {} };
}

/** hapi-pino with its defaults (one "request completed" line per request) to pino's async file destination. */
function pino(ctx) {
  const log = pinoFile(ctx, 'hapi-pino.log');
  return {
    register: async (server) => {
      await server.register({ plugin: require('hapi-pino'), options: { stream: log.dest } });
      return null;
    },
    reset: log.reset,
    teardown: log.close,
  };
}

function audit(kind) {
  return (ctx) => {
    const pkg = auditPackage('/hapi');
    const { auditLogHapi, PLUGIN_NAME } = pkg;
    const { store, release } = auditStore(kind, ctx, pkg);
    return {
      register: async (server) => {
        await server.register({ plugin: auditLogHapi, options: { store, ttl: '1d' } });
        return server.plugins[PLUGIN_NAME];
      },
      teardown: release,
    };
  };
}

const HAPI_VARIANTS = {
  'hapi-bare': { framework: 'hapi', label: 'Hapi bare (baseline)', build: bare },
  'hapi-pino': { framework: 'hapi', label: 'Hapi + hapi-pino → async file', logger: true, build: pino },
  'hapi-memory': { framework: 'hapi', label: 'Hapi + audit: memoryStore', audit: true, build: audit('memory') },
  'hapi-file': { framework: 'hapi', label: 'Hapi + audit: fileStore (SQLite)', audit: true, build: audit('file') },
  'hapi-mongo': { framework: 'hapi', label: 'Hapi + audit: mongoStore (wire test server)', audit: true, mongo: true, build: audit('mongo') },
};

module.exports = { HAPI_VARIANTS };
