/**
 * The query routes under `basePath`: list, one entry, entity history, manual entries. Every
 * data route checks authentication and scope first; answers carry `Cache-Control: no-store`
 * and `nosniff`; errors are JSON `{ statusCode, error, message }` and never contain entries.
 */
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { AuditEntry } from '../entry';
import { AuditLogQueryError } from '../errors';
import { decodeKeys } from '../capture/keys';
import { sanitize, type SanitizeLimits } from '../capture/sanitize';
import { getPath } from '../capture/path';
import { traceIdFrom, requestIdFrom, userAgentFrom } from '../capture/correlation';
import type { Config } from '../options';
import { isObjectIdString } from '../query/coerce';
import { parseListQuery, type ListRequest } from '../query/list-query';
import { parseManualEntries } from '../query/manual-entry';
import { describeRule, scopeAllows, scopesOf } from '../query/scope';
import type { AuditFilter, AuditStore } from '../stores/types';
import { queryParameters } from './query-string';
import { userOf } from './request-user';
import { streamExport } from './export';

export interface RouterContext {
  config: Config;
  store: AuditStore;
  limits: SanitizeLimits;
  newId: () => string;
  /** Reports store failures through the middleware's 'error' event. */
  fail(error: unknown): void;
  /** Writes what is queued, so a read right after a write sees it (read-your-writes). */
  flushPending(): Promise<void>;
  /** Records that someone exported the log (who, which filter, how many rows). */
  recordExport(req: Request, details: { rows: number; format: string; query: Record<string, unknown>; capped: boolean }): void;
  /** Extra routers mounted at basePath before the data routes (the admin page). */
  extras?: Router[];
}

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 413: 'Payload Too Large', 415: 'Unsupported Media Type', 503: 'Service Unavailable' };

function sendError(res: Response, statusCode: number, message: string, extra: Record<string, unknown> = {}): void {
  res.status(statusCode).json({ statusCode, error: STATUS_TEXT[statusCode] ?? 'Error', message, ...extra });
}

/** Stored keys are encoded (see capture/keys); answers give them back as the app sent them. */
function present(doc: Partial<AuditEntry>): Partial<AuditEntry> {
  const out: Record<string, unknown> = { ...doc };
  for (const field of ['payload', 'params', 'result'] as const) {
    if (out[field] !== undefined && out[field] !== null) out[field] = decodeKeys(out[field]);
  }
  return out as Partial<AuditEntry>;
}

/** rest-hapi's list shape: `{ docs, pages, items }`. */
function listBody(docs: Partial<AuditEntry>[], total: number, list: ListRequest) {
  const { limit, skip } = list.query;
  const current = list.page;
  const pagesTotal = Math.ceil(total / limit);
  return {
    docs: docs.map(present),
    pages: { current, prev: current - 1, hasPrev: current > 1, next: current + 1, hasNext: current < pagesTotal, total: pagesTotal },
    items: { limit, begin: Math.min(skip + 1, total), end: Math.min(skip + limit, total), total },
  };
}

export function createQueryRouter(ctx: RouterContext): Router {
  const { config, store } = ctx;
  const base = config.basePath;
  const router = express.Router({ caseSensitive: true, strict: false });

  router.use(base, (_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    next();
  });
  for (const extra of ctx.extras ?? []) router.use(base, extra);

  function authorize(req: Request, res: Response, next: NextFunction): void {
    if (config.publicRoutes) return next();
    const auth = (req as Request & { auth?: unknown }).auth;
    if (auth === undefined || auth === null) {
      res.setHeader('WWW-Authenticate', 'Bearer');
      return sendError(res, 401, 'Authentication required: send a bearer token accepted by the app (req.auth is not set).');
    }
    if (!scopeAllows(config.scope, scopesOf(getPath(auth, config.scopeKey)))) {
      return sendError(res, 403, `Insufficient scope: the audit log needs ${describeRule(config.scope)}.`);
    }
    next();
  }

  const run = (handler: (req: Request, res: Response) => Promise<void>) => (req: Request, res: Response, next: NextFunction) => {
    handler(req, res).catch(next);
  };

  async function list(req: Request, res: Response, extraFilter?: AuditFilter): Promise<void> {
    const parsed = parseListQuery(queryParameters(req), config);
    await ctx.flushPending();
    if (extraFilter) {
      const { filter } = parsed.query;
      parsed.query.filter = Object.keys(filter).length === 0 ? extraFilter : { $and: [extraFilter, filter] };
    }
    if (parsed.countOnly) {
      res.json(await store.count(parsed.query.filter));
      return;
    }
    const { docs, total } = await store.find(parsed.query);
    res.json(listBody(docs, total, parsed));
  }

  router.get(base, authorize, run((req, res) => list(req, res)));

  router.post(base, authorize, express.json({ limit: '1mb' }), run(async (req, res) => {
    if (!config.manualEntries) return sendError(res, 405, 'Manual entries are turned off (manualEntries: false).');
    if (!req.is('application/json')) return sendError(res, 415, 'Send manual entries as JSON with Content-Type: application/json.');
    const { entries, many } = parseManualEntries(req.body, userOf(req, config.userIdKey, config.getUser));
    const requestId = requestIdFrom(req.headers[config.requestIdHeader]);
    const now = new Date();
    const stored: AuditEntry[] = entries.map((fields) => {
      const payload = sanitize(fields.payload, ctx.limits);
      const params = sanitize(fields.params, ctx.limits);
      const result = sanitize(fields.result, ctx.limits);
      const truncated = [payload.truncated && 'payload', params.truncated && 'params', result.truncated && 'result'].filter((f): f is string => !!f);
      return {
        ...fields,
        _id: ctx.newId(),
        date: now,
        payload: payload.value as AuditEntry['payload'],
        params: params.value as AuditEntry['params'],
        result: result.value as AuditEntry['result'],
        ipAddress: req.ip ?? null,
        requestId,
        traceId: traceIdFrom(req.headers.traceparent),
        durationMs: null,
        userAgent: userAgentFrom(req.headers['user-agent']),
        truncated: truncated.length > 0 ? truncated : null,
      };
    });
    await store.insertMany(stored);
    res.status(201).json(many ? stored.map(present) : present(stored[0]!));
  }));

  router.get(`${base}/history/:collection/:id`, authorize, run(async (req, res) => {
    const { collection, id } = req.params as { collection: string; id: string };
    const query = queryParameters(req);
    if (query.collectionName !== undefined || query.documents !== undefined) {
      throw new AuditLogQueryError(query.collectionName !== undefined ? 'collectionName' : 'documents', 'the history route sets collectionName and documents from its path.');
    }
    await list(req, res, { documents: id, $or: [{ collectionName: collection }, { childCollectionName: collection }] });
  }));

  router.get(`${base}/export`, authorize, run(async (req, res) => {
    await ctx.flushPending();
    const details = await streamExport(store, { maxRows: config.exportMaxRows, defaultLimit: config.defaultLimit, maxLimit: config.maxLimit }, req, res);
    ctx.recordExport(req, details);
  }));

  router.get(`${base}/:id`, authorize, run(async (req, res) => {
    const id = (req.params as { id: string }).id;
    if (!isObjectIdString(id)) throw new AuditLogQueryError('id', `'${id.slice(0, 64)}' is not an entry id: ids are 24 hexadecimal characters.`);
    const parameters = queryParameters(req);
    for (const name of Object.keys(parameters)) {
      if (name !== '$select') throw new AuditLogQueryError(name, `unknown query parameter '${name.slice(0, 64)}'; this route accepts only $select.`);
    }
    await ctx.flushPending();
    const entry = await store.findById(id.toLowerCase());
    if (!entry) return sendError(res, 404, 'No audit entry was found with that id.');
    const selected = parseListQuery({ $select: parameters.$select ?? [] }, config).query.select;
    const shown = selected ? Object.fromEntries(Object.entries(entry).filter(([key]) => (selected as string[]).includes(key))) : entry;
    res.json(present(shown));
  }));

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
      return sendError(res, status, status === 413 ? 'The body is too large (1 MB at most).' : 'The body is not valid JSON.');
    }
    ctx.fail(error);
    sendError(res, 503, 'The audit store is unavailable; try again later.');
  });

  return router;
}
