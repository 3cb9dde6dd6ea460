/**
 * The query routes under `basePath`, for Express: each route gathers the caller's facts and its
 * query parameters, asks the framework-free service (query/service.ts) and writes its answer.
 * Every data route checks authentication and scope first; answers carry `Cache-Control: no-store`
 * and `nosniff`; errors are JSON `{ statusCode, error, message }` and never contain entries.
 */
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { AuditLogQueryError } from '../errors';
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
import { streamExport } from './export';
import { mountGovernanceRoutes } from './governance-routes';
import { queryParameters } from './query-string';
import { contextOfRequest } from './request-context';
import { authOf, tenantOf, userOf } from './request-user';

export interface RouterContext extends QueryRoutesContext<Request> {
  /** Extra routers mounted at basePath before the data routes (the admin page). */
  extras?: Router[];
}

/** Writes a service answer: JSON, or a string body as it is (its Content-Type header says what it is). */
export function sendAnswer(res: Response, answer: QueryAnswer): void {
  if (answer.headers) res.set(answer.headers);
  res.status(answer.status);
  if (answer.body === undefined) res.end();
  else if (typeof answer.body === 'string') res.send(answer.body);
  else res.json(answer.body);
}

function sendError(res: Response, statusCode: number, message: string, extra: Record<string, unknown> = {}): void {
  sendAnswer(res, errorAnswer(statusCode, message, extra));
}

export function createQueryRouter(ctx: RouterContext): Router {
  const { config, store } = ctx;
  const base = config.basePath;
  const router = express.Router({ caseSensitive: true, strict: false });
  // The routes' context is the service's, plus what only this adapter knows.
  const service = createQueryService({
    ...ctx,
    contextOf: (caller) => contextOfRequest(caller.req as Request, ctx.sink),
    missingAuth: config.getAuth ? 'getAuth(req) returned no auth for this request' : 'req.auth is not set',
  });

  /** What the service needs to know of the caller; read lazily, as the routes need it. */
  function callerOf(req: Request): QueryCaller {
    return {
      method: req.method,
      path: req.originalUrl.split('?')[0] ?? '',
      headers: req.headers,
      ip: req.ip,
      req,
      auth: () => authOf(req, config),
      tenant: () => (config.tenants ? tenantOf(req, config.tenants) : null),
      user: () => userOf(req, config),
    };
  }

  /** A service gate as Express middleware: its refusal is the answer, else the route goes on. */
  const gate =
    (check: (caller: QueryCaller) => Gate) =>
    (req: Request, res: Response, next: NextFunction): void => {
      const refusal = check(callerOf(req));
      if (refusal) return sendAnswer(res, refusal);
      next();
    };
  const authorize = gate(service.authorize);
  const checkAuth = gate(service.checkAuth);

  const run = (handler: (req: Request, res: Response) => Promise<void>) => (req: Request, res: Response, next: NextFunction) => {
    handler(req, res).catch(next);
  };
  /** A route whose whole answer comes from the service. */
  const answer = (handler: (req: Request) => Promise<QueryAnswer> | QueryAnswer) => run(async (req, res) => sendAnswer(res, await handler(req)));

  router.use(base, (_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    next();
  });
  for (const extra of ctx.extras ?? []) router.use(base, extra);

  router.get(
    base,
    authorize,
    answer((req) => service.list(callerOf(req), queryParameters(req))),
  );

  // Writes are never public: publicRoutes opens the reads only.
  router.post(
    base,
    checkAuth,
    express.json({ limit: BODY_LIMITS.manualEntries }),
    answer((req) => {
      if (!config.manualEntries) return errorAnswer(405, 'Manual entries are turned off (manualEntries: false).');
      if (!req.is('application/json')) return errorAnswer(415, 'Send manual entries as JSON with Content-Type: application/json.');
      return service.manualEntries(callerOf(req), req.body);
    }),
  );

  router.get(
    `${base}/history/:collection/:id`,
    authorize,
    answer((req) => {
      const { collection, id } = req.params as { collection: string; id: string };
      return service.history(callerOf(req), collection, id, queryParameters(req));
    }),
  );

  router.get(
    `${base}/export`,
    authorize,
    run(async (req, res) => {
      const access = service.access(callerOf(req));
      if (isAnswer(access)) return sendAnswer(res, access);
      if (req.method !== 'HEAD') await ctx.flushPending();
      const details = await streamExport(store, service.exportSettings(access), req, res);
      // A HEAD exported nothing: not recorded.
      if (details) ctx.recordExport(req, details);
    }),
  );

  router.get(`${base}/openapi.json`, authorize, (req, res) => sendAnswer(res, service.openapi(queryParameters(req))));

  router.get(
    `${base}/stats`,
    authorize,
    answer((req) => service.stats(callerOf(req), queryParameters(req))),
  );

  router.get(
    `${base}/verify`,
    gate(service.authorizeVerify),
    answer((req) => service.verify(callerOf(req), queryParameters(req))),
  );

  // Erasures: authenticated even with publicRoutes, `scope` and `eraseScope` both; no eraseScope configured: nobody may.
  router.post(
    `${base}/erasures`,
    gate(service.authorizeErase),
    express.json({ limit: BODY_LIMITS.erasures }),
    answer((req) => {
      if (!req.is('application/json')) return errorAnswer(415, 'Send the erasure as JSON with Content-Type: application/json: { "user": "<user id>" }.');
      return service.erase(callerOf(req), req.body);
    }),
  );
  mountGovernanceRoutes(router, ctx, { service, callerOf, gate, answer });

  router.get(
    `${base}/:id`,
    authorize,
    answer((req) => service.getById(callerOf(req), (req.params as { id: string }).id, queryParameters(req))),
  );

  // The log is append-only over HTTP.
  router.all(base, (_req, res) => {
    res.setHeader('Allow', config.manualEntries ? 'GET, HEAD, POST' : 'GET, HEAD');
    sendError(res, 405, 'The audit log is append-only: entries cannot be changed or deleted over HTTP.');
  });
  router.all(`${base}/:id`, (_req, res) => {
    res.setHeader('Allow', 'GET, HEAD');
    sendError(res, 405, 'The audit log is append-only: entries cannot be changed or deleted over HTTP.');
  });
  router.use(base, (_req: Request, res: Response) => sendError(res, 404, 'No such audit log route.'));

  // Errors from our own handlers only; the app's errors never pass through here.
  router.use(base, (error: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) {
      // Mid-stream (an export): the client must see a broken download, not a truncated file that looks whole.
      ctx.fail(error);
      res.destroy();
      return;
    }
    if (error instanceof AuditLogQueryError) return sendError(res, 400, error.message, { parameter: error.parameter });
    const status = (error as { status?: number; type?: string }).status;
    if (status === 400 || status === 413 || status === 415) {
      // body-parser's error names the limit of the route that refused the body.
      return sendAnswer(res, bodyRefusal(status, (error as { limit?: number }).limit ?? BODY_LIMITS.manualEntries));
    }
    ctx.fail(error);
    sendError(res, 503, 'The audit store is unavailable; try again later.');
  });

  return router;
}
