/**
 * The recording hooks for Fastify, placed so that a request the audit log does not record pays
 * for nothing but one global `onRequest` that returns at once (a GET: measured, four global hooks
 * cost Fastify about a tenth of its GET throughput).
 *
 * - `onRequest`, global in the registering context (it runs first, as before any hook the app adds
 *   later): notes what a recorded request is (method, URL, request id) and enters its audit context
 *   for the rest of the request (body parsing keeps it: tested).
 * - `onRoute`: a route whose methods include a recorded one gets the recorder's `onSend` as a
 *   route-level hook, which keeps the serialized payload (what the client gets). GET-only routes
 *   get nothing.
 * - What `onRoute` never saw (Fastify's 404s, the app's not-found handler, routes declared before
 *   the plugin): the payload is taken where Node writes it (`res.end`), the same bytes.
 * - The entry is built when the response closes, after the answer is on the wire, so the client
 *   never waits for capture or the store; a response that closes unfinished (the client left) is
 *   recorded as aborted. With `durability: 'journal'` it is built before the answer goes out.
 *
 * Nothing here may change the app's answer: every hook catches its own failures, reports them
 * (the 'error' event) and lets the request go on.
 */
import type { ServerResponse } from 'http';
import { performance } from 'perf_hooks';
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction, RouteOptions } from 'fastify';
import { buildEntryFromFacts, type BuildContext } from '../capture/build-entry';
import { InFlight } from '../core/in-flight';
import { annotationOf } from '../capture/annotate';
import { requestIdFrom } from '../capture/correlation';
import { pathMatcher, type RoutingSettings } from '../capture/path-filter';
import type { AuditEntry } from '../entry';
import { contextConsumed, runInContext, type AuditContext } from '../events/context';
import type { Config } from '../options';
import { keepReply, recordingOf, startRecording, takeRecording, type Recording } from './recordings';
import { recordedTenant, userOf } from './request-auth';
import { AUDIT_ROUTE } from './routes';

export interface RecorderHooks {
  push(entry: AuditEntry, bytes: number): void;
  fail(error: unknown): void;
  /** The audit context the rest of the request runs in, or null when nothing reads contexts. */
  context(request: FastifyRequest, requestId: string): AuditContext | null;
}

export interface FastifyRecorder {
  onRequest(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void;
  /** Gives a route that can be recorded the recorder's route-level hook; leaves the others untouched. */
  onRoute(route: RouteOptions): void;
  /**
   * For the app's close: waits (at most `ms`) for the recorded requests still in flight to end, then
   * records the rest as cut off (Fastify's close can resolve before the response of a request whose
   * client left has closed).
   */
  settle(ms: number): Promise<void>;
}

/** Route config of the routes that carry the recorder's onSend (see onRoute). */
const INSTRUMENTED = Symbol('express-audit-log.instrumented');

type RouteConfig = Record<string | symbol, unknown> | undefined;
type HookList<T> = T | T[] | undefined;
type OnSend = (request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (error: Error | null, payload?: unknown) => void) => void;

/** The request of a recorded response, for its 'close' listener. */
const RAW_REQUESTS = new WeakMap<ServerResponse, FastifyRequest>();

function pathOf(url: string): string {
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

function hookList<T>(hooks: HookList<T>): T[] {
  if (hooks === undefined) return [];
  return Array.isArray(hooks) ? hooks : [hooks];
}

export function createFastifyRecorder(config: Config, ctx: BuildContext, routing: RoutingSettings, hooks: RecorderHooks): FastifyRecorder {
  const { methods, requestIdHeader, echoRequestId, transform } = config;
  const included = config.include.length > 0 ? pathMatcher(config.include) : null;
  const excluded = config.exclude.length > 0 ? pathMatcher(config.exclude) : null;
  const journaled = config.durability === 'journal';
  const tenants = config.tenants;
  const inFlight = new InFlight<FastifyRequest>();

  /** Builds and queues the entry once; `aborted`: the response closed before it was complete (the client left). */
  function finish(request: FastifyRequest, reply: FastifyReply | null, aborted: boolean): void {
    const rec = takeRecording(request);
    if (!rec) return;
    inFlight.delete(request);
    try {
      const annotation = annotationOf(request);
      if (annotation?.skip) return;
      const pattern = request.routeOptions?.url;
      const params = (request.params ?? null) as Record<string, unknown> | null;
      const status = reply ? reply.statusCode : 200;
      const sent = reply ? reply.sent || reply.raw.headersSent : false;
      const contentType = reply?.getHeader('content-type');
      const built = buildEntryFromFacts(ctx, {
        method: rec.method,
        url: rec.url,
        path: rec.url,
        // Fastify's matched pattern is the whole path, prefixes included: there is no mount point apart.
        route: typeof pattern === 'string' ? { baseUrl: '', pattern, params } : null,
        params: typeof pattern === 'string' ? params : null,
        headers: request.headers ?? {},
        ip: request.ip,
        body: request.body,
        statusCode: aborted && !sent && status === 200 ? null : status,
        responseStatus: status,
        statusMessage: reply?.raw.statusMessage || null,
        responseBody: rec.body,
        contentType: typeof contentType === 'string' ? contentType : null,
        aborted,
        start: rec.start,
        requestId: rec.requestId,
        annotation,
        user: () => userOf(request, config),
        tenant: () => (tenants ? recordedTenant(request, tenants, ctx.fail) : null),
        context: rec.context,
      });
      if (!built) return;
      const entry = transform ? transform(built.entry, request) : built.entry;
      if (entry) hooks.push(entry, built.bytes);
    } catch (error) {
      hooks.fail(error);
    }
  }

  /** Starts recording a request of a recorded method; returns its recording, or null for one not recorded. */
  function start(request: FastifyRequest, reply: FastifyReply, routeConfig: RouteConfig): Recording | null {
    const url = pathOf(request.url ?? '');
    if ((included && !included(url, routing)) || excluded?.(url, routing)) return null;
    const incomingId = requestIdFrom(request.headers[requestIdHeader]);
    const context = hooks.context(request, incomingId);
    const requestId = context?.requestId ?? incomingId;
    const rec: Recording = { start: performance.now(), method: request.method, url, requestId, body: undefined, context, reply };
    startRecording(request, rec);
    inFlight.add(request);
    RAW_REQUESTS.set(reply.raw, request);
    reply.raw.on('close', onRawClose);
    // A route onRoute did not see has no onSend of ours: take the payload where Node writes it.
    if (routeConfig?.[INSTRUMENTED] !== true) captureAtWrite(request, reply, rec);
    if (echoRequestId) reply.header(requestIdHeader, requestId);
    return rec;
  }

  // One listener shared by every request (no closure per request), as on Express: 'close' comes
  // once, after the response is on the wire or when the connection dropped first.
  function onRawClose(this: ServerResponse): void {
    const request = RAW_REQUESTS.get(this);
    const rec = request ? recordingOf(request) : undefined;
    if (request && rec) finish(request, rec.reply, !this.writableFinished);
  }

  /** A hook's failure is reported and the request goes on. */
  function failed(error: unknown): void {
    try {
      hooks.fail(error);
    } catch {
      // a throwing 'error' listener must not cost the app its answer either
    }
  }

  /**
   * The answer is about to go out: keep its payload (a string or Buffer; not a stream, not bytes an
   * app's onSend hook encoded, which are no result); in journal mode, build the entry now.
   */
  function beforeWire(request: FastifyRequest, reply: FastifyReply, rec: Recording, payload: unknown): void {
    if ((typeof payload === 'string' || Buffer.isBuffer(payload)) && reply.getHeader('content-encoding') === undefined) rec.body = payload;
    if (journaled) finish(request, reply, false);
  }

  /**
   * Fastify writes a string or Buffer payload with one `res.end(payload)` (after `onSend`), and a
   * stream with `res.write`s: the first call tells which. Own properties on this response only, put
   * back on the first call.
   */
  function captureAtWrite(request: FastifyRequest, reply: FastifyReply, rec: Recording): void {
    // Loosely typed: the wrappers pass every argument through unchanged.
    const res = reply.raw as unknown as { end: (...args: unknown[]) => unknown; write: (...args: unknown[]) => unknown };
    const { end, write } = res;
    const restore = () => {
      res.end = end;
      res.write = write;
    };
    const seen = (payload: unknown) => {
      try {
        restore();
        if (recordingOf(request) === rec) beforeWire(request, reply, rec, payload);
      } catch (error) {
        failed(error);
      }
    };
    res.end = function (this: unknown, ...args: unknown[]) {
      seen(args[0]);
      return end.apply(this, args);
    };
    res.write = function (this: unknown, ...args: unknown[]) {
      seen(undefined);
      return write.apply(this, args);
    };
  }

  // Named: app.printRoutes({ includeHooks: true }) lists hooks by name.
  const auditLogOnSend: OnSend = (request, reply, payload, done) => {
    try {
      const rec = recordingOf(request);
      if (rec) beforeWire(request, reply, rec, payload);
    } catch (error) {
      failed(error);
    }
    done(null, payload);
  };

  function auditLogOnRequest(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
    if (!methods.has(request.method)) {
      keepReply(request, reply);
      return done();
    }
    let rec: Recording | null = null;
    try {
      const routeConfig = request.routeOptions.config as unknown as RouteConfig;
      if (routeConfig?.[AUDIT_ROUTE] !== true) rec = start(request, reply, routeConfig);
    } catch (error) {
      takeRecording(request);
      inFlight.delete(request);
      failed(error);
    }
    // A request it does not record keeps its reply for record(request, …)'s X-Request-Id echo.
    if (!rec) keepReply(request, reply);
    // The rest of the request (body parsing, the app's hooks, the handler) runs in its context,
    // so audited calls and mongoose diffs see it.
    const context = rec?.context;
    if (context && contextConsumed()) runInContext(context, done);
    else done();
  }

  return {
    onRequest: auditLogOnRequest,
    onRoute(route) {
      const config = route.config as unknown as RouteConfig;
      if (config?.[AUDIT_ROUTE] === true) return;
      const routeMethods = Array.isArray(route.method) ? route.method : [route.method];
      if (!routeMethods.some((method) => methods.has(method.toUpperCase()))) return;
      // First among the route's own onSend hooks, as the global hook it replaces was.
      route.onSend = [auditLogOnSend, ...hookList(route.onSend as HookList<OnSend>)] as RouteOptions['onSend'];
      route.config = { ...config, [INSTRUMENTED]: true } as RouteOptions['config'];
    },
    settle: (ms) =>
      inFlight.settle(ms, (request) => {
        const reply = recordingOf(request)?.reply ?? null;
        finish(request, reply, !reply?.raw.writableFinished);
      }),
  };
}
