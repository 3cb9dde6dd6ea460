/**
 * The query routes under `basePath` as Hapi routes: each gathers the caller's facts and its query
 * parameters, asks the framework-free service (query/service.ts) and writes its answer, exactly
 * as the Express adapter's router does. The routes check auth themselves (401, 403 with the
 * `scope` option's hapi semantics): Hapi's auth only authenticates them, in mode 'try', so a
 * missing or bad token reaches the service, which answers as on Express, and `publicRoutes` works.
 */
import { parse } from 'querystring';
import { Readable } from 'stream';
import type { Lifecycle, Request, ResponseToolkit, RouteDefMethods, RouteOptions, RouteOptionsValidate, ServerRoute } from '@hapi/hapi';
import { AuditLogQueryError } from '../errors';
import type { EnabledAuditCore } from '../core/audit-core';
import { prepareExport } from '../query/export';
import { BODY_LIMITS, bodyRefusal, createQueryService, errorAnswer, isAnswer, type Gate, type QueryAnswer, type QueryCaller } from '../query/service';
import { readJsonBody } from './json-body';
import { authOf, tenantOf, userOf } from './request-auth';
import { contextOfRequest } from './request-context';

/**
 * The payload settings of a route that takes no body (DELETE, the 405s and 404s): never read nor
 * parsed, nor refused for its declared size (no limit applies to a body nobody reads), so whatever
 * was sent, the route gives its own answer, as on Express, where only the routes that take a body
 * parse one. Hapi leaves the unread body (and closes the connection after the answer).
 */
export const UNREAD = { parse: false, output: 'stream', maxBytes: Number.MAX_SAFE_INTEGER } as const;

/**
 * The plugin's routes check their own input: the server's default validation (`routes: { validate }`)
 * is not theirs to apply (its query schema would refuse `$limit`; a payload schema cannot even be set
 * on a route that leaves its body unread: Hapi refuses to register it). `true`: anything allowed (a
 * route's null would not override the server's default). Not `params` (Hapi refuses a params rule
 * on a path without params, so no server has a default one), nor `payload` on a GET (Hapi refuses it).
 */
export function ownValidation(method: string): { validate: RouteOptionsValidate } {
  const any = { headers: true, query: true, state: true } as RouteOptionsValidate;
  return { validate: method === 'GET' ? any : { ...any, payload: true } };
}

const APPEND_ONLY = 'The audit log is append-only: entries cannot be changed or deleted over HTTP.';

function queryParameters(request: Request): Record<string, unknown> {
  const search = request.url.search;
  return search.length > 1 ? parse(search.slice(1)) : {};
}

/** Writes a service answer: JSON, or a string body as it is (its Content-Type header says what it is). */
function reply(h: ResponseToolkit, answer: QueryAnswer) {
  const response = answer.body === undefined ? h.response().code(answer.status) : h.response(answer.body as object).code(answer.status);
  response.header('Cache-Control', 'no-store');
  response.header('X-Content-Type-Options', 'nosniff');
  for (const [name, value] of Object.entries(answer.headers ?? {})) response.header(name, value);
  if (typeof answer.body === 'string' && !answer.headers?.['Content-Type']) response.type('text/plain; charset=utf-8');
  return response;
}

function isJson(request: Request): boolean {
  return request.mime === 'application/json';
}

/**
 * `auth`: how Hapi authenticates the routes: the given strategies (else the server's default
 * ones) in mode 'try', with no route-level scope (the service checks it); false: no strategy.
 */
export function queryRoutes(core: EnabledAuditCore, auth: RouteOptions['auth']): ServerRoute[] {
  const { config, store } = core;
  const base = config.basePath;
  const service = createQueryService({
    config,
    store,
    sink: core.sink,
    fail: core.report,
    flushPending: core.flushPending,
    write: core.write,
    governance: core.governance,
    reads: core.reads,
    erase: core.erasable ? (body, contextOf) => core.erase(body, contextOf) : undefined,
    contextOf: (caller) => contextOfRequest(caller.req as Request, core.sink),
    missingAuth: config.getAuth ? 'getAuth(request) returned no auth for this request' : 'request.auth.credentials is not set',
  });

  function callerOf(request: Request): QueryCaller {
    return {
      method: request.method.toUpperCase(),
      path: request.path,
      headers: request.raw.req.headers,
      ip: request.info.remoteAddress,
      req: request,
      auth: () => authOf(request, config),
      tenant: () => (config.tenants ? tenantOf(request, config.tenants) : null),
      user: () => userOf(request, config),
    };
  }

  /**
   * A request whose payload Hapi could not even set up (a malformed Content-Type). Hapi gets there
   * before the handler runs, though after authenticating the caller (mode 'try'), so the gate runs
   * here first: a caller who may not use the route gets its 401/403 whatever was sent, as on Express.
   */
  const bodyRefused =
    (gate: ((caller: QueryCaller) => Gate) | null, maxBytes: number): Lifecycle.FailAction =>
    (request, h, error) => {
      const refusal = gate ? gate(callerOf(request)) : null;
      if (refusal) return reply(h, refusal).takeover();
      const status = (error as { output?: { statusCode?: number } } | undefined)?.output?.statusCode;
      return reply(h, bodyRefusal(status === 413 ? 413 : 400, maxBytes)).takeover();
    };

  /** A route: its gate first, then its answer; the service's errors become the Express adapter's answers. */
  const route = (
    method: RouteDefMethods | '*',
    path: string,
    gate: ((caller: QueryCaller) => Gate) | null,
    handle: (request: Request, h: ResponseToolkit) => Promise<QueryAnswer | Lifecycle.ReturnValue> | QueryAnswer,
    /** The largest JSON body the route takes, in bytes (a 413 above it, read after the gate); none: the route takes no body. */
    maxBytes?: number,
  ): ServerRoute => ({
    method,
    path: `${base}${path}`,
    options: {
      auth,
      ...ownValidation(method),
      // The request stream, unread: a JSON body is read after the gate (json-body.ts); a type that is not JSON
      // is never read, and the handler answers 415, as on Express.
      ...(maxBytes ? { payload: { ...UNREAD, failAction: bodyRefused(gate, maxBytes) } } : method === 'GET' ? {} : { payload: UNREAD }),
    },
    handler: async (request, h) => {
      try {
        const refusal = gate ? gate(callerOf(request)) : null;
        if (refusal) return reply(h, refusal);
        if (maxBytes && isJson(request)) {
          const body = await readJsonBody(request.payload as Readable, request.raw.req.headers, maxBytes);
          if ('refused' in body) return reply(h, bodyRefusal(body.refused, maxBytes));
          (request as { payload: unknown }).payload = body.value;
        }
        const answer = await handle(request, h);
        return isAnswer(answer) ? reply(h, answer) : answer;
      } catch (error) {
        if (error instanceof AuditLogQueryError) return reply(h, errorAnswer(400, error.message, { parameter: error.parameter }));
        core.report(error);
        return reply(h, errorAnswer(503, 'The audit store is unavailable; try again later.'));
      }
    },
  });

  const routes: ServerRoute[] = [
    route('GET', '', service.authorize, (request) => service.list(callerOf(request), queryParameters(request))),
    // Writes are never public: publicRoutes opens the reads only.
    route(
      'POST',
      '',
      service.checkAuth,
      (request) => {
        if (!config.manualEntries) return errorAnswer(405, 'Manual entries are turned off (manualEntries: false).');
        if (!isJson(request)) return errorAnswer(415, 'Send manual entries as JSON with Content-Type: application/json.');
        return service.manualEntries(callerOf(request), request.payload);
      },
      BODY_LIMITS.manualEntries,
    ),
    route('GET', '/history/{collection}/{id}', service.authorize, (request) =>
      service.history(callerOf(request), request.params.collection as string, request.params.id as string, queryParameters(request)),
    ),
    route('GET', '/export', service.authorize, async (request, h) => {
      const caller = callerOf(request);
      const access = service.access(caller);
      if (isAnswer(access)) return access;
      const head = request.method === 'head';
      if (!head) await core.flushPending();
      const prepared = await prepareExport(store, service.exportSettings(access), queryParameters(request), head);
      const { chunks } = prepared;
      // Pulled page by page as the socket drains; the export is recorded once it has been read to the end.
      const stream = chunks ? Readable.from(chunks, { objectMode: false }) : null;
      if (stream) {
        stream.once('end', () => core.emit(contextOfRequest(request, core.sink), exportEvent(prepared.details())));
        stream.once('error', (error) => core.report(error));
      }
      const response = stream ? h.response(stream).code(prepared.status) : h.response().code(prepared.status);
      for (const [name, value] of Object.entries({ 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff', ...prepared.headers })) {
        response.header(name, value);
      }
      return response;
    }),
    route('GET', '/openapi.json', service.authorize, (request) => service.openapi(queryParameters(request))),
    route('GET', '/stats', service.authorize, (request) => service.stats(callerOf(request), queryParameters(request))),
    route('GET', '/verify', service.authorizeVerify, (request) => service.verify(callerOf(request), queryParameters(request))),
    route(
      'POST',
      '/erasures',
      service.authorizeErase,
      (request) => {
        if (!isJson(request)) return errorAnswer(415, 'Send the erasure as JSON with Content-Type: application/json: { "user": "<user id>" }.');
        return service.erase(callerOf(request), request.payload);
      },
      BODY_LIMITS.erasures,
    ),
    route(
      'GET',
      '/retention',
      (caller) => service.authorize(caller) ?? service.acrossTenants(caller),
      () => service.retention(),
    ),
    route(
      'POST',
      '/holds',
      service.authorizeHolds,
      (request) => {
        if (!isJson(request)) return errorAnswer(415, 'Send the hold as JSON with Content-Type: application/json.');
        return service.placeHold(callerOf(request), request.payload);
      },
      BODY_LIMITS.holds,
    ),
    route('GET', '/holds', service.authorizeHolds, () => service.listHolds()),
    route('DELETE', '/holds/{id}', service.authorizeHolds, (request) => service.releaseHold(callerOf(request), request.params.id as string)),
    route('GET', '/{id}', service.authorize, (request) => service.getById(callerOf(request), request.params.id as string, queryParameters(request))),
    // The log is append-only over HTTP.
    route('*', '', null, () => errorAnswer(405, APPEND_ONLY, {}, { Allow: config.manualEntries ? 'GET, HEAD, POST' : 'GET, HEAD' })),
    route('*', '/{id}', null, () => errorAnswer(405, APPEND_ONLY, {}, { Allow: 'GET, HEAD' })),
    route('*', '/{rest*}', null, () => errorAnswer(404, 'No such audit log route.')),
  ];
  return routes;
}

function exportEvent(details: { rows: number; format: string; query: Record<string, unknown>; capped: boolean }) {
  return {
    action: 'Export',
    collectionName: 'auditLog',
    payload: details.query,
    result: { rows: details.rows, format: details.format, capped: details.capped },
  };
}
