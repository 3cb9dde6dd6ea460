/**
 * The recording middleware. For a request it records, it only notes the start time, wraps
 * `res.send` to see the body, and registers one completion callback; the entry is built
 * after the response has finished and handed to the writer, so the client never waits for
 * capture or the store. Requests it does not record (GET by default) cost one Set lookup.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import onFinished from 'on-finished';
import { requestIdFrom } from '../capture/correlation';
import type { Config } from '../options';
import { runInContext, type AuditContext } from '../events/context';
import { buildEntry, type BuildContext, type Recording } from './entry-builder';

const RECORDING = Symbol('express-audit-log.recording');

type Recorded = Response & { [RECORDING]?: Recording & { send: Response['send'] } };

// One shared function, not a closure per request: it finds its state on the response.
function captureSend(this: Recorded, body?: unknown): Response {
  const rec = this[RECORDING]!;
  if (typeof body === 'string' || Buffer.isBuffer(body)) rec.body = body;
  // Route params exist only while the route runs; by the time the response finishes, the
  // router may have moved on. The first send() is inside the route.
  if (rec.params === null && this.req.params && Object.keys(this.req.params).length > 0) rec.params = { ...this.req.params };
  return rec.send.call(this, body);
}

function matches(path: string, patterns: ReadonlyArray<string | RegExp>): boolean {
  return patterns.some((pattern) => (typeof pattern === 'string' ? path === pattern || path.startsWith(pattern.endsWith('/') ? pattern : `${pattern}/`) : pattern.test(path)));
}

export interface RecorderHooks {
  push(entry: import('../entry').AuditEntry, bytes: number): void;
  /** Reports a failure while building an entry (a bug or a hostile value); the app carries on. */
  fail(error: unknown): void;
  /** The audit context the rest of the request runs in (audited calls, mongoose diffs). */
  context?(req: Request, requestId: string): AuditContext;
}

export function createRecorder(config: Config, ctx: BuildContext, hooks: RecorderHooks): RequestHandler {
  const { methods, include, exclude, requestIdHeader, transform } = config;

  function finish(req: Request, res: Recorded): void {
    const rec = res[RECORDING];
    if (!rec) return;
    try {
      const built = buildEntry(ctx, req, res, rec);
      if (!built) return;
      const entry = transform ? transform(built.entry, req) : built.entry;
      if (entry) hooks.push(entry, built.bytes);
    } catch (error) {
      hooks.fail(error);
    }
  }

  return function auditRecorder(req: Request, res: Response, next: NextFunction): void {
    if (!methods.has(req.method)) return next();
    const recorded = res as Recorded;
    if (recorded[RECORDING]) return next(); // mounted twice (recorder + full middleware): record once
    if (include.length > 0 || exclude.length > 0) {
      const path = req.originalUrl.split('?')[0] ?? '';
      if ((include.length > 0 && !matches(path, include)) || matches(path, exclude)) return next();
    }
    const context = hooks.context ? hooks.context(req, requestIdFrom(req.headers[requestIdHeader])) : null;
    // A record(req, …) made before this middleware ran has already given the request its id.
    const requestId = context?.requestId ?? requestIdFrom(req.headers[requestIdHeader]);
    recorded[RECORDING] = { start: performance.now(), path: req.path, requestId, body: undefined, params: null, send: res.send, context };
    res.send = captureSend as Response['send'];
    if (!res.headersSent) res.setHeader('X-Request-Id', requestId);
    onFinished(res, () => finish(req, recorded));
    // Only recorded requests enter a context, so the requests we skip (GETs) pay nothing for it.
    if (context) runInContext(context, next);
    else next();
  };
}
