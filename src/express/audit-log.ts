/**
 * `auditLog()`, the Express adapter's entry: the framework-free core (options, store, writer,
 * events: src/core/) plus what Express needs: the recorder that turns responses into entries,
 * the query router and the admin page. The returned middleware is also the handle the app
 * keeps: `close()`, `stats()`, events, all the core's.
 */
import type { EventEmitter } from 'events';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { createAuditCore } from '../core/audit-core';
import type { AuditHandleMembers } from '../core/handle';
import type { ErasureRequest, ErasureResult } from '../encryption/erasure';
import { SINK, type EventSink } from '../events/context';
import { eventMethods } from '../events/handle';
import type { AuditCoreOptions } from '../options';
import { annotate } from './annotate';
import { createRecorder } from './recorder';
import { contextOfRequest, recordedContext } from './request-context';
import { createQueryRouter } from './router';
import { createUiRouter } from './ui-router';

export type { AuditLogStats } from '../core/audit-core';

/** The options of `auditLog()`: the app's callbacks (`getUser`, `getAuth`, `getTenant`, `transform`) get Express's `req`. */
export type AuditLogOptions = AuditCoreOptions<Request>;

export interface AuditLogMiddleware extends RequestHandler, AuditHandleMembers<Request> {
  /** Records only: mount it first to also record requests your auth middleware rejects. */
  readonly recorder: RequestHandler;
  /** Serves only the query routes. */
  readonly routes: RequestHandler;
}

function attach(middleware: RequestHandler, emitter: EventEmitter, members: object, sink: EventSink | null): AuditLogMiddleware {
  const handle = Object.assign(middleware, members, eventMethods(sink)) as AuditLogMiddleware;
  Object.defineProperty(handle, SINK, { value: sink });
  Object.assign(handle, {
    on: (event: string, listener: (...args: unknown[]) => void) => (emitter.on(event, listener), handle),
    once: (event: string, listener: (...args: unknown[]) => void) => (emitter.once(event, listener), handle),
    off: (event: string, listener: (...args: unknown[]) => void) => (emitter.off(event, listener), handle),
    annotate,
  });
  return handle;
}

/** Creates the audit middleware. Throws AuditLogConfigError at once when an option is wrong. */
export function auditLog(options?: AuditLogOptions): AuditLogMiddleware {
  const core = createAuditCore(options, { contextOf: (req, sink) => contextOfRequest(req as Request, sink) });
  const lifecycle = {
    store: core.store,
    flush: core.flush,
    close: core.close,
    stats: core.stats,
    erase: async (request: ErasureRequest): Promise<ErasureResult> => {
      const { entry: _entry, ...result } = await core.erase(request, null);
      return result;
    },
    rotateMasterKey: core.rotateMasterKey,
  };
  if (!core.enabled) {
    const passThrough: RequestHandler = function auditLogDisabled(_req, _res, next) {
      next();
    };
    return attach(passThrough, core.events, { ...lifecycle, recorder: passThrough, routes: passThrough, enabled: false }, null);
  }

  const { config, sink } = core;
  const recorder = createRecorder(
    config,
    { config, limits: core.limits, newId: core.newId, inferAssociation: core.inferAssociation, fail: core.report },
    {
      push: sink.push,
      fail: core.report,
      context: (req, requestId) => recordedContext(req, sink, requestId),
    },
  );
  const extras = config.ui ? [createUiRouter({ basePath: config.basePath })] : [];
  const router = config.routes
    ? createQueryRouter({
        config,
        store: core.store,
        sink,
        fail: core.report,
        extras,
        flushPending: core.flushPending,
        write: core.write,
        // An export is a custom event of the instance: same identity, sanitizing and transform as record().
        recordExport: (req: Request, details: { rows: number; format: string; query: Record<string, unknown>; capped: boolean }) => {
          core.emit(contextOfRequest(req, sink), {
            action: 'Export',
            collectionName: 'auditLog',
            payload: details.query,
            result: { rows: details.rows, format: details.format, capped: details.capped },
          });
        },
        reads: core.reads,
        erase: core.erasable ? (body, contextOf) => core.erase(body, contextOf) : undefined,
        governance: core.governance,
      })
    : null;
  const base = config.basePath;

  function isAuditPath(path: string | undefined): boolean {
    // A bare request object (a router unit test) has no path: it is not ours.
    return typeof path === 'string' && path.startsWith(base) && (path.length === base.length || path.charCodeAt(base.length) === 47) /* '/' */;
  }

  const routes: RequestHandler = function auditLogRoutes(req: Request, res: Response, next: NextFunction) {
    if (router && isAuditPath(req.path)) router(req, res, next);
    else next();
  };

  const middleware: RequestHandler = function auditLogMiddleware(req: Request, res: Response, next: NextFunction) {
    // The audit routes are never recorded themselves; everything else goes to the recorder.
    if (router && isAuditPath(req.path)) router(req, res, next);
    else recorder(req, res, next);
  };

  return attach(middleware, core.events, { ...lifecycle, recorder, routes, enabled: true }, sink);
}

/** Adds to, or skips, what is recorded for this request. */
auditLog.annotate = annotate;
