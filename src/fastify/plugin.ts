/**
 * `auditLogFastify`, the Fastify adapter: the framework-free core (src/core/) plus Fastify's
 * hooks (recorder.ts), the query routes and the admin page (routes.ts). Wrapped with
 * fastify-plugin, so its hooks and its `auditLog` decoration apply in the context it is
 * registered in (the root: every route; a plugin: that plugin's routes), not only inside itself.
 * Closing the Fastify instance closes the audit log (flushes, then closes the store).
 */
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { createAuditCore } from '../core/audit-core';
import { SHUTDOWN_SETTLE_MS } from '../core/in-flight';
import type { AuditHandleMembers } from '../core/handle';
import { annotate as annotateRequest } from '../capture/annotate';
import { SINK } from '../events/context';
import { eventMethods, type EventMethods } from '../events/handle';
import type { AuditCoreOptions } from '../options';
import { createFastifyRecorder } from './recorder';
import { contextOfRequest, recordedContext } from './request-context';
import { REPLY } from './recordings';
import { registerQueryRoutes } from './routes';

/** The options of `auditLogFastify`: the app's callbacks (`getUser`, `getAuth`, `getTenant`, `transform`) get Fastify's `request`. */
export type AuditLogFastifyOptions = AuditCoreOptions<FastifyRequest>;

/** `app.auditLog`: the instance's handle, as `auditLog()` is on Express. */
export interface FastifyAuditLog extends AuditHandleMembers<FastifyRequest> {}

declare module 'fastify' {
  interface FastifyInstance {
    auditLog: FastifyAuditLog;
  }
}

const plugin: FastifyPluginAsync<AuditLogFastifyOptions> = async (app: FastifyInstance, options: AuditLogFastifyOptions) => {
  // Fastify hands a plugin its register options; `prefix` and the like are Fastify's, not ours.
  const { prefix: _prefix, logLevel: _logLevel, logSerializers: _logSerializers, ...own } = options as AuditLogFastifyOptions & Record<string, unknown>;
  const core = createAuditCore(own as AuditLogFastifyOptions, { contextOf: (req, sink) => contextOfRequest(req as FastifyRequest, sink) });
  const handle: FastifyAuditLog = {
    ...(eventMethods(core.sink) as EventMethods<FastifyRequest>),
    enabled: core.enabled,
    store: core.store,
    flush: core.flush,
    close: core.close,
    stats: core.stats,
    on: (event, listener) => (core.events.on(event, listener), handle),
    once: (event, listener) => (core.events.once(event, listener), handle),
    off: (event, listener) => (core.events.off(event, listener), handle),
    annotate: annotateRequest,
    erase: async (request) => {
      const { entry: _entry, ...result } = await core.erase(request, null);
      return result;
    },
    rotateMasterKey: core.rotateMasterKey,
  };
  // audited(fn, { audit: app.auditLog }) and auditChanges({ audit }) find the instance here.
  Object.defineProperty(handle, SINK, { value: core.sink });
  app.decorate('auditLog', handle);
  if (!core.enabled) {
    app.addHook('onClose', async () => core.close());
    return;
  }

  const { config, sink } = core;
  const initial = app.initialConfig as {
    caseSensitive?: boolean;
    ignoreTrailingSlash?: boolean;
    routerOptions?: { caseSensitive?: boolean; ignoreTrailingSlash?: boolean };
  };
  const recorder = createFastifyRecorder(
    config,
    { config, limits: core.limits, newId: core.newId, inferAssociation: core.inferAssociation, fail: core.report },
    {
      caseSensitive: (initial.routerOptions?.caseSensitive ?? initial.caseSensitive) !== false,
      strict: (initial.routerOptions?.ignoreTrailingSlash ?? initial.ignoreTrailingSlash) !== true,
    },
    {
      push: sink.push,
      fail: core.report,
      context: (request, requestId) => recordedContext(request, sink, requestId),
    },
  );
  // Requests whose client left can still be running when close() resolves: recorded before the store closes.
  app.addHook('onClose', async () => {
    await recorder.settle(SHUTDOWN_SETTLE_MS);
    await core.close();
  });
  // One global hook (a GET leaves it at once); the routes that can be recorded get the rest as
  // route-level hooks (recorder.ts).
  app.decorateRequest(REPLY, null);
  app.addHook('onRequest', recorder.onRequest);
  app.addHook('onRoute', recorder.onRoute);

  if (config.routes) {
    registerQueryRoutes(app, {
      config,
      store: core.store,
      sink,
      fail: core.report,
      flushPending: core.flushPending,
      write: core.write,
      recordExport: (request, details) => {
        core.emit(contextOfRequest(request, sink), {
          action: 'Export',
          collectionName: 'auditLog',
          payload: details.query,
          result: { rows: details.rows, format: details.format, capped: details.capped },
        });
      },
      governance: core.governance,
      reads: core.reads,
      erase: core.erasable ? (body, contextOf) => core.erase(body, contextOf) : undefined,
    });
  }
};

/** The Fastify plugin: `await app.register(auditLogFastify, { ttl: '1d', scope: ['admin'] })`. */
export const auditLogFastify = fp(plugin, { fastify: '5.x', name: 'express-audit-log' });
