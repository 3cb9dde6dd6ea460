/**
 * Records Hapi requests: `onRequest` notes what the request is (method and path, read once, as on
 * Express), `onPreResponse` what the app answers (status, the source it replied with or a Boom
 * error's output), and the server's 'response' event, once the response is on the wire or the
 * client has gone, takes the answer that went out (later extensions may have replaced it) and
 * hands the facts to the framework-free builder (capture/build-entry.ts).
 * With `durability: 'journal'` the entry is built (and journaled) when Hapi writes the status
 * line, before any byte of the answer reaches the socket: see journalBeforeHead().
 * Nothing here may change the app's answer: failures are reported (EAUDIT_CAPTURE) and the request goes on.
 */
import { STATUS_CODES, type ServerResponse } from 'http';
import { performance } from 'perf_hooks';
import type { Request, ResponseObject, ResponseToolkit, Server } from '@hapi/hapi';
import { annotationOf } from '../capture/annotate';
import { buildEntryFromFacts, type BuildContext } from '../capture/build-entry';
import { InFlight } from '../core/in-flight';
import { requestIdFrom } from '../capture/correlation';
import { pathMatcher, type RoutingSettings } from '../capture/path-filter';
import type { AuditEntry } from '../entry';
import { contextConsumed, enterContext, type AuditContext } from '../events/context';
import { existingContext } from '../events/request-context';
import type { Config } from '../options';
import { matchedRoute } from './route';
import { tenantOf, userOf } from './request-auth';

interface Recording {
  start: number;
  method: string;
  url: string;
  requestId: string;
  context: AuditContext | null;
  /** Set by onPreResponse; undefined when the request never got that far (the client left first). */
  status?: number;
  body?: string | Buffer;
  contentType?: string | null;
  /** The client had already gone when the answer was ready (Hapi sends nothing then). */
  gone?: boolean;
  /** Read when the request arrives: once the client is gone, Hapi no longer knows its address. */
  ip: string | undefined;
  /** Journal mode: built as the status line is written, so complete, not aborted, though not yet on the wire. */
  ending?: boolean;
}

export interface HapiRecorderHooks {
  push(entry: AuditEntry, bytes: number): void;
  fail(error: unknown): void;
  context(request: Request, requestId: string): AuditContext | null;
  /** True for the audit log's own routes: never recorded. */
  isOwnPath(path: string): boolean;
  /**
   * Drop one trailing slash from the audit log's own paths before routing. Done in the recorder's
   * `onRequest` rather than an extension of its own: every extension costs each request (GETs too).
   */
  trimOwnSlash: boolean;
}

interface BoomLike {
  isBoom: true;
  output: { statusCode: number; payload: unknown; headers: Record<string, unknown> };
}

function isBoom(response: unknown): response is BoomLike {
  return response !== null && typeof response === 'object' && (response as { isBoom?: unknown }).isBoom === true;
}

function isStream(value: unknown): boolean {
  return value !== null && typeof value === 'object' && typeof (value as { pipe?: unknown }).pipe === 'function';
}

/** What the app answered, as the client will read it: a string, a Buffer or the JSON Hapi will send. */
function answerOf(response: ResponseObject | BoomLike | null): Pick<Recording, 'status' | 'body' | 'contentType'> {
  if (!response) return { status: 200, body: undefined, contentType: null };
  if (isBoom(response)) return { status: response.output.statusCode, body: JSON.stringify(response.output.payload), contentType: 'application/json' };
  const source = response.source as unknown;
  const type = response.headers?.['content-type'];
  const declared = typeof type === 'string' ? type : null;
  if (source === null || source === undefined) return { status: response.statusCode, body: undefined, contentType: declared };
  if (typeof source === 'string' || Buffer.isBuffer(source))
    return { status: response.statusCode, body: source, contentType: declared ?? (typeof source === 'string' ? 'text/html' : 'application/octet-stream') };
  if (isStream(source) || response.variety !== 'plain') return { status: response.statusCode, body: undefined, contentType: declared };
  return { status: response.statusCode, body: jsonOf(source), contentType: declared ?? 'application/json' };
}

/**
 * The JSON Hapi will send for a plain source, or undefined for one it cannot serialize (a cycle, a
 * BigInt): Hapi then answers 500 instead, which the 'response' event reads.
 */
function jsonOf(source: unknown): string | undefined {
  try {
    return JSON.stringify(source);
  } catch {
    return undefined;
  }
}

/**
 * `include` / `exclude` match paths the way Hapi's router does: case-sensitively unless the server
 * set `router.isCaseSensitive: false`, and minding a trailing slash unless it set
 * `router.stripTrailingSlash` (Hapi's defaults are Express's `case sensitive routing` and `strict routing`).
 */
export function routingOf(server: Server): RoutingSettings {
  const router = server.settings.router ?? {};
  return { caseSensitive: router.isCaseSensitive !== false, strict: router.stripTrailingSlash !== true };
}

/** Adds the recorder's extensions to `server` (the plugin's realm: prefixes apply to routes only, so every request of the server passes). */
/** What the plugin needs of the recorder once installed. */
export interface HapiRecorder {
  /**
   * For the server's stop: waits (at most `ms`) for the recorded requests still in flight to end,
   * then records those that have not as what they are, requests whose client was cut off (Hapi's
   * stop destroys the connections still open, runs onPostStop, and only later ends their requests).
   */
  settle(ms: number): Promise<void>;
}

export function installRecorder(server: Server, config: Config, ctx: BuildContext, hooks: HapiRecorderHooks): HapiRecorder {
  const recordings = new WeakMap<Request, Recording>();
  /** The recorded requests not finished yet (each leaves at its 'response' event). */
  const inFlight = new InFlight<Request>();
  const { methods, requestIdHeader, echoRequestId, transform } = config;
  const included = config.include.length > 0 ? pathMatcher(config.include) : null;
  const excluded = config.exclude.length > 0 ? pathMatcher(config.exclude) : null;
  const routing = routingOf(server);
  const journaled = config.durability === 'journal';
  /** Whether a request to `path` is recorded at all (`include` / `exclude`). */
  const chosen = (path: string) => !((included && !included(path, routing)) || excluded?.(path, routing));

  server.ext('onRequest', (request: Request, h: ResponseToolkit) => {
    let context: AuditContext | null = null;
    try {
      const path = request.path;
      if (hooks.trimOwnSlash && path.length > 1 && path.endsWith('/') && hooks.isOwnPath(path)) request.setUrl(`${path.slice(0, -1)}${request.url.search}`);
      const method = request.method.toUpperCase();
      if (methods.has(method) && !hooks.isOwnPath(request.path) && chosen(request.path)) {
        const incomingId = requestIdFrom(request.headers[requestIdHeader]);
        context = hooks.context(request, incomingId);
        recordings.set(request, {
          start: performance.now(),
          method,
          url: request.path,
          requestId: context?.requestId ?? incomingId,
          context,
          ip: request.info.remoteAddress,
        });
        inFlight.add(request);
      }
    } catch (error) {
      hooks.fail(error);
    }
    // Audited functions and mongoose diffs in the handler find the request's context, and those of
    // a request not recorded find none (not the one before it on a keep-alive connection). Only
    // once something reads contexts (see contextConsumed), as on Express.
    if (contextConsumed()) enterContext(context ?? undefined);
    return h.continue;
  });

  server.ext('onPreResponse', (request: Request, h: ResponseToolkit) => {
    const rec = recordings.get(request);
    if (!rec) {
      echoEventId(request);
      return h.continue;
    }
    try {
      const response = request.response as ResponseObject | BoomLike | null;
      Object.assign(rec, answerOf(response));
      rec.gone = !request.active();
      if (echoRequestId) {
        if (isBoom(response)) response.output.headers[requestIdHeader] = rec.requestId;
        else response?.header(requestIdHeader, rec.requestId);
      }
      // A client already gone gets nothing written: its request is recorded on 'response', as aborted.
      if (journaled && !rec.gone) journalBeforeHead(request);
    } catch (error) {
      hooks.fail(error);
    }
    return h.continue;
  });

  server.events.on('response', (request: Request) => {
    const rec = recordings.get(request);
    if (!rec) return;
    // What went out: extensions after the recorder's onPreResponse (an app's error formatter) or a
    // failure to marshal may have replaced the answer it noted. Not when the client left: Hapi
    // then puts its disconnect error in place of the answer, and the one noted stands.
    if (rec.status !== undefined && !rec.gone && !isDisconnect(request, request.response)) {
      try {
        Object.assign(rec, answerOf(request.response as ResponseObject | BoomLike | null));
      } catch (error) {
        hooks.fail(error);
      }
    }
    finish(request);
  });

  /** Builds and queues the request's entry, once. */
  function finish(request: Request): void {
    const rec = recordings.get(request);
    if (!rec) return;
    recordings.delete(request);
    inFlight.delete(request);
    try {
      const built = buildEntryFromFacts(ctx, factsOf(request, rec, ctx));
      if (!built) return;
      const entry = transform ? transform(built.entry, request) : built.entry;
      if (entry) hooks.push(entry, built.bytes);
    } catch (error) {
      hooks.fail(error);
    }
  }

  /**
   * Journal mode: Hapi marshals the answer after onPreResponse (and may turn a failure there into
   * a 500), then writes the status line with `res.writeHead()` and pipes the payload. Node keeps
   * the head until the first write, so building the entry right after writeHead() puts it in the
   * journal (a synchronous write: pipeline/journal.ts) before the client can have any of the
   * answer, from the final status and payload. The wrapper is this request's own, in journal mode only.
   */
  function journalBeforeHead(request: Request): void {
    const res = request.raw.res;
    const writeHead = res.writeHead;
    const own = Object.prototype.hasOwnProperty.call(res, 'writeHead');
    res.writeHead = function journaledWriteHead(this: ServerResponse, ...args: unknown[]) {
      // Hapi calls it again (with its 500) when the first call throws: the wrapper stays until one succeeds.
      const result = (writeHead as (...a: unknown[]) => ServerResponse).apply(this, args);
      if (own) res.writeHead = writeHead;
      else delete (res as { writeHead?: unknown }).writeHead;
      const rec = recordings.get(request);
      if (rec) {
        try {
          Object.assign(rec, answerOf(request.response as ResponseObject | BoomLike | null), { status: res.statusCode, ending: true });
        } catch (error) {
          hooks.fail(error);
        }
        finish(request);
      }
      return result;
    } as typeof res.writeHead;
  }

  return {
    settle: (ms) =>
      inFlight.settle(ms, (request) => {
        const rec = recordings.get(request);
        // Not on the wire by now: its client was cut off.
        if (rec && !request.raw.res.writableFinished) rec.gone = true;
        finish(request);
      }),
  };
}

/**
 * A request not recorded (a GET) on which `record(request, …)` made a context: its id goes back as
 * X-Request-Id, as on Express, so the client can find the event. Never overrides one the app set.
 */
function echoEventId(request: Request): void {
  const context = existingContext(request);
  const response = request.response as ResponseObject | BoomLike | null;
  if (!context?.requestId || !response) return;
  const headers = isBoom(response) ? response.output.headers : response.headers;
  if (headers['X-Request-Id'] !== undefined || headers['x-request-id'] !== undefined) return;
  if (isBoom(response)) response.output.headers['X-Request-Id'] = context.requestId;
  else response.header('X-Request-Id', context.requestId);
}

/** Hapi's own answer to a client that left: a Boom error with the route's disconnect status, 'Request aborted' or 'Request close'. */
function isDisconnect(request: Request, response: unknown): boolean {
  if (!isBoom(response)) return false;
  const disconnectStatus = (request.route.settings.response as { disconnectStatusCode?: number } | undefined)?.disconnectStatusCode ?? 499;
  return response.output.statusCode === disconnectStatus && /^Request (aborted|close)$/.test((response as unknown as Error).message);
}

function factsOf(request: Request, rec: Recording, ctx: BuildContext) {
  // The client left before the response was complete: Hapi then replaces the response with its
  // disconnect error (499 by default) and still ends it. The status is the one the app had answered, if any.
  // Hapi skips onPreResponse for a request whose client has gone: no answer noted means the client left first.
  const aborted = !rec.ending && (rec.status === undefined || rec.gone === true || isDisconnect(request, request.response));
  // Nothing was sent to a client gone before the answer: as on Express, a default 200 nobody sent is no status at all.
  const status = rec.status === undefined || (rec.gone && rec.status === 200) ? null : rec.status;
  const route = matchedRoute(request);
  const tenants = ctx.config.tenants;
  return {
    method: rec.method,
    url: rec.url,
    path: rec.url,
    route,
    params: route ? (request.params as Record<string, unknown>) : null,
    headers: request.raw.req.headers,
    ip: rec.ip,
    // A route with `payload: { output: 'stream' }` (an upload) gives the request stream itself: no
    // body was parsed, as on Express without a body parser, and its internals (headers) are no payload.
    body: isStream(request.payload) ? undefined : request.payload,
    statusCode: status,
    responseStatus: status ?? 200,
    statusMessage: status === null ? null : (STATUS_CODES[status] ?? null),
    responseBody: rec.body,
    contentType: rec.contentType ?? null,
    aborted,
    start: rec.start,
    requestId: rec.requestId,
    annotation: annotationOf(request),
    user: () => userOf(request, ctx.config),
    tenant: () => {
      if (!tenants) return null;
      try {
        return tenantOf(request, tenants);
      } catch (error) {
        ctx.fail?.(error);
        return null;
      }
    },
    context: rec.context,
  };
}
