/**
 * The query routes under `basePath`, for Fastify: each route gathers the caller's facts and its
 * query parameters, asks the framework-free service (query/service.ts) and writes its answer,
 * exactly as express/router.ts does. They live in an encapsulated child context: their body
 * parser (JSON checked here, so 400/413/415 answer as on Express), their error handler and their
 * headers touch none of the app's routes.
 */
import { parse } from 'querystring';
import { Readable } from 'stream';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteShorthandOptions } from 'fastify';
import { AuditLogQueryError } from '../errors';
import { prepareExport } from '../query/export';
import {
  BODY_LIMITS,
  bodyRefusal,
  createQueryService,
  errorAnswer,
  isAnswer,
  type Gate,
  type QueryAnswer,
  type QueryCaller,
  type QueryRoutesContext,
} from '../query/service';
import { contextOfRequest } from './request-context';
import { authOf, tenantOf, userOf } from './request-auth';
import { registerUiRoutes } from './ui-routes';

export type FastifyRoutesContext = QueryRoutesContext<FastifyRequest>;

/** Marks the audit log's own routes (route config): the recorder never records them. */
export const AUDIT_ROUTE = 'auditLogRoute';

const APPEND_ONLY = 'The audit log is append-only: entries cannot be changed or deleted over HTTP.';
const ALL_METHODS = ['DELETE', 'GET', 'HEAD', 'PATCH', 'POST', 'PUT', 'OPTIONS'] as const;

/** The query parameters, read from the URL with Node's querystring, as on Express (express/query-string.ts). */
function queryParameters(request: FastifyRequest): Record<string, unknown> {
  const url = request.url ?? '';
  const at = url.indexOf('?');
  return at === -1 ? {} : parse(url.slice(at + 1));
}

function isJsonType(request: FastifyRequest): boolean {
  const type = request.headers['content-type'];
  return typeof type === 'string' && /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i.test(type.trim());
}

/** The raw body the routes' own parser kept, parsed as JSON; throws a 400 the error handler answers. */
function jsonBody(request: FastifyRequest): unknown {
  const text = request.body;
  if (typeof text !== 'string' || text === '') return {};
  try {
    return JSON.parse(text);
  } catch {
    throw Object.assign(new Error('The body is not valid JSON.'), { statusCode: 400 });
  }
}

export function sendAnswer(reply: FastifyReply, answer: QueryAnswer): FastifyReply {
  if (answer.headers) reply.headers(answer.headers);
  reply.code(answer.status);
  if (answer.body === undefined) return reply.send();
  if (typeof answer.body === 'string') return reply.send(answer.body);
  return reply.type('application/json; charset=utf-8').send(JSON.stringify(answer.body));
}

/** Registers the routes in an encapsulated child of `app` (same prefix). */
export function registerQueryRoutes(app: FastifyInstance, ctx: FastifyRoutesContext): void {
  const { config, store } = ctx;
  const base = config.basePath;
  // The routes' context is the service's, plus what only this adapter knows.
  const service = createQueryService({
    ...ctx,
    contextOf: (caller) => contextOfRequest(caller.req as FastifyRequest, ctx.sink),
    missingAuth: config.getAuth ? 'getAuth(request) returned no auth for this request' : 'request.user is not set',
  });

  function callerOf(request: FastifyRequest): QueryCaller {
    return {
      method: request.method,
      path: request.url.split('?')[0] ?? '',
      headers: request.headers,
      ip: request.ip,
      req: request,
      auth: () => authOf(request, config),
      tenant: () => (config.tenants ? tenantOf(request, config.tenants) : null),
      user: () => userOf(request, config),
    };
  }

  const gate = (check: (caller: QueryCaller) => Gate) => async (request: FastifyRequest, reply: FastifyReply) => {
    const refusal = check(callerOf(request));
    if (refusal) return sendAnswer(reply, refusal);
  };
  const own = (preHandler: ReturnType<typeof gate>[] = [], extra: RouteShorthandOptions = {}): RouteShorthandOptions => ({
    ...extra,
    config: { [AUDIT_ROUTE]: true },
    preHandler,
  });
  const answer = (handler: (request: FastifyRequest) => Promise<QueryAnswer> | QueryAnswer) => async (request: FastifyRequest, reply: FastifyReply) =>
    sendAnswer(reply, await handler(request));
  const authorize = gate(service.authorize);

  app.register(async (child) => {
    // The routes' bodies are read as text and checked here: the app's parsers and limits stay the app's.
    child.removeAllContentTypeParsers();
    child.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body));
    child.addHook('onRequest', async (_request, reply) => {
      reply.header('Cache-Control', 'no-store');
      reply.header('X-Content-Type-Options', 'nosniff');
    });
    child.setErrorHandler(async (error: Error & { statusCode?: number }, request, reply) => {
      if (reply.raw.headersSent) {
        ctx.fail(error);
        reply.raw.destroy();
        return reply;
      }
      if (error instanceof AuditLogQueryError) return sendAnswer(reply, errorAnswer(400, error.message, { parameter: error.parameter }));
      const status = error.statusCode;
      if (status === 400 || status === 413 || status === 415) {
        return sendAnswer(reply, bodyRefusal(status, request.routeOptions.bodyLimit ?? BODY_LIMITS.manualEntries));
      }
      ctx.fail(error);
      return sendAnswer(reply, errorAnswer(503, 'The audit store is unavailable; try again later.'));
    });
    if (config.ui) registerUiRoutes(child, base, own());

    child.get(
      base,
      own([authorize]),
      answer((request) => service.list(callerOf(request), queryParameters(request))),
    );
    // Writes are never public: publicRoutes opens the reads only.
    child.post(
      base,
      own([gate(service.checkAuth)], { bodyLimit: BODY_LIMITS.manualEntries }),
      answer((request) => {
        if (!config.manualEntries) return errorAnswer(405, 'Manual entries are turned off (manualEntries: false).');
        if (!isJsonType(request)) return errorAnswer(415, 'Send manual entries as JSON with Content-Type: application/json.');
        return service.manualEntries(callerOf(request), jsonBody(request));
      }),
    );
    child.get(
      `${base}/history/:collection/:id`,
      own([authorize]),
      answer((request) => {
        const { collection, id } = request.params as { collection: string; id: string };
        return service.history(callerOf(request), collection, id, queryParameters(request));
      }),
    );
    child.get(`${base}/export`, own([authorize]), async (request, reply) => {
      const access = service.access(callerOf(request));
      if (isAnswer(access)) return sendAnswer(reply, access);
      const head = request.method === 'HEAD';
      if (!head) await ctx.flushPending();
      const prepared = await prepareExport(store, service.exportSettings(access), queryParameters(request), head);
      reply.code(prepared.status).headers(prepared.headers);
      const { chunks } = prepared;
      if (!chunks) return reply.send();
      // A stream pulls the next page only once the socket took the last one; destroying it (the client left) ends the generator.
      const stream = Readable.from(chunks, { objectMode: false });
      stream.on('end', () => ctx.recordExport(request, prepared.details()));
      stream.on('error', (error) => ctx.fail(error));
      return reply.send(stream);
    });
    child.get(
      `${base}/openapi.json`,
      own([authorize]),
      answer((request) => service.openapi(queryParameters(request))),
    );
    child.get(
      `${base}/stats`,
      own([authorize]),
      answer((request) => service.stats(callerOf(request), queryParameters(request))),
    );
    child.get(
      `${base}/verify`,
      own([gate(service.authorizeVerify)]),
      answer((request) => service.verify(callerOf(request), queryParameters(request))),
    );
    child.post(
      `${base}/erasures`,
      own([gate(service.authorizeErase)], { bodyLimit: BODY_LIMITS.erasures }),
      answer((request) => {
        if (!isJsonType(request)) return errorAnswer(415, 'Send the erasure as JSON with Content-Type: application/json: { "user": "<user id>" }.');
        return service.erase(callerOf(request), jsonBody(request));
      }),
    );
    child.get(
      `${base}/retention`,
      own([authorize, gate(service.acrossTenants)]),
      answer(() => service.retention()),
    );
    const authorizeHolds = gate(service.authorizeHolds);
    child.post(
      `${base}/holds`,
      own([authorizeHolds], { bodyLimit: BODY_LIMITS.holds }),
      answer((request) => {
        if (!isJsonType(request)) return errorAnswer(415, 'Send the hold as JSON with Content-Type: application/json.');
        return service.placeHold(callerOf(request), jsonBody(request));
      }),
    );
    child.get(
      `${base}/holds`,
      own([authorizeHolds]),
      answer(() => service.listHolds()),
    );
    child.delete(
      `${base}/holds/:id`,
      own([authorizeHolds]),
      answer((request) => service.releaseHold(callerOf(request), (request.params as { id: string }).id)),
    );
    child.get(
      `${base}/:id`,
      own([authorize]),
      answer((request) => service.getById(callerOf(request), (request.params as { id: string }).id, queryParameters(request))),
    );

    // The log is append-only over HTTP; anything else under basePath is ours to refuse.
    const refuse = (allow: string) => async (_request: FastifyRequest, reply: FastifyReply) => {
      reply.header('Allow', allow);
      return sendAnswer(reply, errorAnswer(405, APPEND_ONLY));
    };
    const others = (taken: readonly string[]) => ALL_METHODS.filter((method) => !taken.includes(method));
    child.route({ method: others(['GET', 'HEAD', 'POST']), url: base, ...own(), handler: refuse(config.manualEntries ? 'GET, HEAD, POST' : 'GET, HEAD') });
    child.route({ method: others(['GET', 'HEAD']), url: `${base}/:id`, ...own(), handler: refuse('GET, HEAD') });
    child.all(`${base}/*`, own(), async (_request, reply) => sendAnswer(reply, errorAnswer(404, 'No such audit log route.')));
  });
}
