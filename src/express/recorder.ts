/**
 * The recording middleware. For a request it records, it notes what the request is (method
 * and URL, read once, here: see "What is recorded, and when" in the README), registers one
 * completion callback, and steps aside; the entry is built after the response has finished
 * and handed to the writer, so the client never waits for capture or the store. Requests it
 * does not record (GET by default) cost one Set lookup.
 *
 * Nothing here may change the app's answer: a failure while setting up is reported
 * (EAUDIT_CAPTURE) and the request goes on unrecorded; a failure while building the entry is
 * reported after the response is gone.
 *
 * Why WeakMaps and prototype patches rather than properties on `req`/`res`: adding any own
 * property to an Express request or response turns it into a slow dictionary object, about
 * 2 µs per property per request, measured (a WeakMap entry costs 0.1 µs). So the state lives
 * in RECORDINGS, the body is seen through `send` (send-capture.ts) and the matched route
 * through `req.route` (route-capture.ts), each patched once.
 */
import { performance } from 'perf_hooks';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { requestIdFrom } from '../capture/correlation';
import type { Config } from '../options';
import { contextConsumed, runInContext, type AuditContext } from '../events/context';
import { buildEntry, type BuildContext, type Recording } from './entry-builder';
import { pathMatcher, type RoutingSettings } from './path-filter';
import { RECORDINGS } from './recordings';
import { captureRoutes } from './route-capture';
import { isSendPatched, patchSend } from './send-capture';
import { isEndPatched, patchEnd } from './end-capture';

export interface RecorderHooks {
  push(entry: import('../entry').AuditEntry, bytes: number): void;
  /** Reports a failure of the audit log itself (a bug or a hostile value); the app carries on. */
  fail(error: unknown): void;
  /**
   * The audit context the rest of the request runs in (audited calls, mongoose diffs): the one
   * a record(req, …) before the recorder made, else a new one when anything reads contexts
   * (see contextConsumed), else null. Creating none saves an object and a WeakMap entry per request.
   */
  context?(req: Request, requestId: string): AuditContext | null;
}

const DEFAULT_ROUTING: RoutingSettings = { caseSensitive: false, strict: false };

function routingOf(req: Request): RoutingSettings {
  const app = req.app as { get?: (name: string) => unknown } | undefined;
  if (typeof app?.get !== 'function') return DEFAULT_ROUTING;
  return { caseSensitive: app.get('case sensitive routing') === true, strict: app.get('strict routing') === true };
}

function pathOf(url: string): string {
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

export function createRecorder(config: Config, ctx: BuildContext, hooks: RecorderHooks): RequestHandler {
  const { methods, requestIdHeader, echoRequestId, transform } = config;
  const included = config.include.length > 0 ? pathMatcher(config.include) : null;
  const excluded = config.exclude.length > 0 ? pathMatcher(config.exclude) : null;

  const journaled = config.durability === 'journal';

  function finish(req: Request, res: Response, rec: Recording, ending = false): void {
    RECORDINGS.delete(res);
    try {
      const built = buildEntry(ctx, req, res, rec, ending);
      if (!built) return;
      const entry = transform ? transform(built.entry, req) : built.entry;
      if (entry) hooks.push(entry, built.bytes);
    } catch (error) {
      hooks.fail(error);
    }
  }

  // ServerResponse emits 'close' once, after the response finished or the connection dropped:
  // one listener does what on-finished's several did. One function shared by every request,
  // with `on` rather than `once`, so no closure or once-wrapper is allocated per request.
  function onClose(this: Response): void {
    const rec = RECORDINGS.get(this);
    if (rec) finish(this.req, this, rec);
  }

  /**
   * Journal mode: the entry is built and journaled inside res.end(), from what is known then
   * (status, body, params, annotations so far). A request whose end() is never called (the
   * client left first) is still recorded when the response closes, as in the default mode.
   */
  function onEnd(res: Response, rec: Recording): void {
    finish(res.req, res, rec, true);
  }

  /** Starts recording; returns the context to run the request in, or undefined when it is not recorded. */
  function start(req: Request, res: Response): AuditContext | null | undefined {
    const method = req.method;
    if (!methods.has(method)) return undefined;
    if (RECORDINGS.has(res)) return undefined; // mounted twice (recorder + full middleware): record once
    const url = pathOf(req.originalUrl ?? req.url ?? '');
    if (included || excluded) {
      const routing = routingOf(req);
      if ((included && !included(url, routing)) || excluded?.(url, routing)) return undefined;
    }
    const headers = req.headers ?? {};
    const incomingId = requestIdFrom(headers[requestIdHeader]);
    const context = hooks.context ? hooks.context(req, incomingId) : null;
    // A record(req, …) made before this middleware ran has already given the request its id.
    const requestId = context?.requestId ?? incomingId;
    const rec: Recording = {
      // req.url, not req.path: Express parses the URL again for req.path, and the path is only needed when no route answers.
      start: performance.now(),
      method,
      url,
      path: pathOf(req.url ?? ''),
      requestId,
      body: undefined,
      params: null,
      routePath: undefined,
      baseUrl: '',
      context,
      onEnd: journaled ? onEnd : null,
    };
    if (typeof res.on !== 'function') return undefined; // not a real response (a bare object in a unit test)
    RECORDINGS.set(res, rec);
    if (!isSendPatched(res)) patchSend(res);
    if (journaled && !isEndPatched(res)) patchEnd(res);
    captureRoutes(req);
    if (echoRequestId && !res.headersSent) res.setHeader(requestIdHeader, requestId);
    res.on('close', onClose);
    return context;
  }

  return function auditRecorder(req: Request, res: Response, next: NextFunction): void {
    let context: AuditContext | null | undefined;
    try {
      context = start(req, res);
    } catch (error) {
      context = undefined;
      try {
        if (res) RECORDINGS.delete(res);
        hooks.fail(error);
      } catch {
        // a throwing 'error' listener must not cost the app its answer either
      }
    }
    // Only recorded requests enter a context, and only once something reads contexts (see
    // contextConsumed), so apps that use neither audited functions nor diffs pay nothing for it.
    if (context && contextConsumed()) runInContext(context, next);
    else next();
  };
}
