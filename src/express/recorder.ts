/**
 * The recording middleware. For a request it records, it only notes the start time and
 * registers one completion callback; the entry is built after the response has finished and
 * handed to the writer, so the client never waits for capture or the store. Requests it does
 * not record (GET by default) cost one Set lookup.
 *
 * Why a WeakMap and a prototype patch rather than properties on `res`: adding any own property
 * to an Express response turns it into a slow dictionary object, about 2 µs per property per
 * request, measured (a WeakMap entry costs 0.1 µs). So the state lives in RECORDINGS, and the
 * body is seen through `send` patched once on the prototype that defines it (Express's shared
 * response object, which every app and sub-app inherits). The patch does nothing for a response
 * that is not being recorded; it is module-level because every auditLog() instance shares it.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { requestIdFrom } from '../capture/correlation';
import type { Config } from '../options';
import { contextConsumed, runInContext, type AuditContext } from '../events/context';
import { buildEntry, type BuildContext, type Recording } from './entry-builder';
import { RECORDINGS } from './recordings';

const PATCHED = Symbol.for('express-audit-log.send-patched');

type Send = Response['send'] & { [PATCHED]?: true };

function observe(res: Response, body: unknown): void {
  const rec = RECORDINGS.get(res);
  if (!rec) return;
  if (typeof body === 'string' || Buffer.isBuffer(body)) rec.body = body;
  // Route params exist only while the route runs; by the time the response finishes, the
  // router may have moved on. The first send() is inside the route. The router gives each
  // match a fresh params object and never changes it afterwards, so a reference is enough
  // (the entry builder copies it).
  if (rec.params === null && hasAnyKey(res.req.params)) rec.params = res.req.params;
}

/** `Object.keys(o).length > 0` without building the array, once per recorded response. */
function hasAnyKey(object: object | undefined): boolean {
  for (const _ in object) return true;
  return false;
}

/** Patches `send` where the response's prototype chain defines it, once per defining object. */
function patchSend(res: Response): void {
  let owner: object | null = Object.getPrototypeOf(res) as object | null;
  while (owner && !Object.prototype.hasOwnProperty.call(owner, 'send')) owner = Object.getPrototypeOf(owner) as object | null;
  if (!owner) return;
  const original = (owner as { send: Send }).send;
  if (typeof original !== 'function' || original[PATCHED]) return;
  const patched = function send(this: Response, body?: unknown): Response {
    observe(this, body);
    return original.call(this, body);
  } as Send;
  patched[PATCHED] = true;
  Object.defineProperty(owner, 'send', { value: patched, writable: true, configurable: true, enumerable: false });
}

function matches(path: string, patterns: ReadonlyArray<string | RegExp>): boolean {
  return patterns.some((pattern) => (typeof pattern === 'string' ? path === pattern || path.startsWith(pattern.endsWith('/') ? pattern : `${pattern}/`) : pattern.test(path)));
}

export interface RecorderHooks {
  push(entry: import('../entry').AuditEntry, bytes: number): void;
  /** Reports a failure while building an entry (a bug or a hostile value); the app carries on. */
  fail(error: unknown): void;
  /**
   * The audit context the rest of the request runs in (audited calls, mongoose diffs): the one
   * a record(req, …) before the recorder made, else a new one when anything reads contexts
   * (see contextConsumed), else null. Creating none saves an object and a WeakMap entry per request.
   */
  context?(req: Request, requestId: string): AuditContext | null;
}

export function createRecorder(config: Config, ctx: BuildContext, hooks: RecorderHooks): RequestHandler {
  const { methods, include, exclude, requestIdHeader, transform } = config;

  function finish(req: Request, res: Response, rec: Recording): void {
    RECORDINGS.delete(res);
    try {
      const built = buildEntry(ctx, req, res, rec);
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

  return function auditRecorder(req: Request, res: Response, next: NextFunction): void {
    if (!methods.has(req.method)) return next();
    if (RECORDINGS.has(res)) return next(); // mounted twice (recorder + full middleware): record once
    if (include.length > 0 || exclude.length > 0) {
      const path = req.originalUrl.split('?')[0] ?? '';
      if ((include.length > 0 && !matches(path, include)) || matches(path, exclude)) return next();
    }
    const incomingId = requestIdFrom(req.headers[requestIdHeader]);
    const context = hooks.context ? hooks.context(req, incomingId) : null;
    // A record(req, …) made before this middleware ran has already given the request its id.
    const requestId = context?.requestId ?? incomingId;
    const rec: Recording = { start: performance.now(), path: req.path, requestId, body: undefined, params: null, context };
    RECORDINGS.set(res, rec);
    if (!(res.send as Send)[PATCHED]) patchSend(res);
    if (!res.headersSent) res.setHeader('X-Request-Id', requestId);
    res.on('close', onClose);
    // Only recorded requests enter a context, and only once something reads contexts (see
    // contextConsumed), so apps that use neither audited functions nor diffs pay nothing for it.
    if (context && contextConsumed()) runInContext(context, next);
    else next();
  };
}
