/**
 * The recording hooks for Fastify. `onRequest` notes what the request is (method, URL, request
 * id) for a request it records; `onSend` keeps the serialized payload (what the client gets);
 * `onResponse`, after the response is on the wire, gathers the facts and hands them to the
 * framework-free builder (capture/build-entry.ts), so the client never waits for capture or the
 * store. A request whose client left before the response was complete is recorded when its
 * response closes unfinished (Fastify's `onRequestAbort` only fires while the body is still coming).
 * With `durability: 'journal'` the entry is built in `onSend`, before the response goes out.
 *
 * Nothing here may change the app's answer: every hook catches its own failures, reports them
 * (the 'error' event) and lets the request go on.
 */
import type { ServerResponse } from 'http';
import { performance } from 'perf_hooks';
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { buildEntryFromFacts, type BuildContext } from '../capture/build-entry';
import { annotationOf } from '../capture/annotate';
import { requestIdFrom } from '../capture/correlation';
import { pathMatcher, type RoutingSettings } from '../capture/path-filter';
import type { AuditEntry } from '../entry';
import { contextConsumed, runInContext, type AuditContext } from '../events/context';
import type { Config } from '../options';
import { existingContext } from '../events/request-context';
import { recordingOf, startRecording, takeRecording, type Recording } from './recordings';
import { recordedTenant, userOf } from './request-auth';

export interface RecorderHooks {
  push(entry: AuditEntry, bytes: number): void;
  fail(error: unknown): void;
  /** The audit context the rest of the request runs in, or null when nothing reads contexts. */
  context(request: FastifyRequest, requestId: string): AuditContext | null;
  /** True for the audit log's own routes: they are never recorded. */
  isOwnRoute(request: FastifyRequest): boolean;
}

export interface FastifyRecorder {
  onRequest(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void;
  preHandler(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void;
  onSend(request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (error: Error | null, payload?: unknown) => void): void;
  onResponse(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void;
}

/** The request of a recorded response, for its 'close' listener. */
const RAW_REQUESTS = new WeakMap<ServerResponse, FastifyRequest>();

function pathOf(url: string): string {
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

export function createFastifyRecorder(config: Config, ctx: BuildContext, routing: RoutingSettings, hooks: RecorderHooks): FastifyRecorder {
  const { methods, requestIdHeader, echoRequestId, transform } = config;
  const included = config.include.length > 0 ? pathMatcher(config.include) : null;
  const excluded = config.exclude.length > 0 ? pathMatcher(config.exclude) : null;
  const journaled = config.durability === 'journal';
  const tenants = config.tenants;

  /** Builds and queues the entry; `ending`: the response is complete but not yet on the wire (journal mode). */
  function finish(request: FastifyRequest, reply: FastifyReply | null, aborted: boolean): void {
    const rec = takeRecording(request);
    if (!rec) return;
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

  function start(request: FastifyRequest, reply: FastifyReply): void {
    const method = request.method;
    if (!methods.has(method) || hooks.isOwnRoute(request)) return;
    const url = pathOf(request.url ?? '');
    if ((included && !included(url, routing)) || excluded?.(url, routing)) return;
    const incomingId = requestIdFrom(request.headers[requestIdHeader]);
    const context = hooks.context(request, incomingId);
    const requestId = context?.requestId ?? incomingId;
    const rec: Recording = { start: performance.now(), method, url, requestId, body: undefined, context, reply };
    startRecording(request, rec);
    RAW_REQUESTS.set(reply.raw, request);
    reply.raw.on('close', onRawClose);
    if (echoRequestId) reply.header(requestIdHeader, requestId);
  }

  // One listener shared by every request (no closure per request), as on Express: 'close' comes
  // once, after 'finish' or when the connection dropped first.
  function onRawClose(this: ServerResponse): void {
    const request = RAW_REQUESTS.get(this);
    const rec = request ? recordingOf(request) : undefined;
    if (request && rec && !this.writableFinished) finish(request, rec.reply, true);
  }

  /** A hook's failure is reported and the request goes on. */
  function failed(error: unknown): void {
    try {
      hooks.fail(error);
    } catch {
      // a throwing 'error' listener must not cost the app its answer either
    }
  }

  /** Before the answer goes out: keep the payload; echo the id of a request record(request, …) gave a context. */
  function beforeSend(request: FastifyRequest, reply: FastifyReply, payload: unknown): void {
    const rec = recordingOf(request);
    if (!rec) {
      const context = existingContext(request);
      if (context?.requestId && reply.getHeader('X-Request-Id') === undefined) reply.header('X-Request-Id', context.requestId);
      return;
    }
    if (typeof payload === 'string' || Buffer.isBuffer(payload)) rec.body = payload;
    if (journaled) finish(request, reply, false);
  }

  return {
    onRequest(request, reply, done) {
      try {
        start(request, reply);
      } catch (error) {
        takeRecording(request);
        failed(error);
      }
      done();
    },
    // After body parsing, so the handler runs inside the context (audited calls, mongoose diffs see it).
    preHandler(request, _reply, done) {
      const context = recordingOf(request)?.context;
      if (context && contextConsumed()) runInContext(context, done);
      else done();
    },
    onSend(request, reply, payload, done) {
      try {
        beforeSend(request, reply, payload);
      } catch (error) {
        failed(error);
      }
      done(null, payload);
    },
    onResponse(request, reply, done) {
      finish(request, reply, false);
      done();
    },
  };
}
