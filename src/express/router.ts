/**
 * The query routes under `basePath`: list, one entry, entity history, manual entries. Every
 * data route checks authentication and scope first; answers carry `Cache-Control: no-store`
 * and `nosniff`; errors are JSON `{ statusCode, error, message }` and never contain entries.
 */
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { randomUUID } from 'crypto';
import type { AuditEntry } from '../entry';
import { AuditLogConfigError, AuditLogQueryError, AuditLogStoreError } from '../errors';
import { decodeKeys } from '../capture/keys';
import { traceIdFrom, userAgentFrom } from '../capture/correlation';
import { checkAction } from '../events/actions';
import type { AuditContext, EventSink } from '../events/context';
import { buildEntry } from '../events/record';
import type { Config } from '../options';
import { isObjectIdString } from '../query/coerce';
import { parseDateRange, parseListQuery, type ListRequest } from '../query/list-query';
import { parseManualEntries } from '../query/manual-entry';
import { computeStats, parseStatsQuery, StatsUnsupportedError } from '../query/stats';
import { buildOpenApi } from '../query/openapi';
import { describeRule, scopeAllows, scopesOf } from '../query/scope';
import type { AuditFilter, AuditStore } from '../stores/types';
import { queryParameters } from './query-string';
import { authOf, userOf, type RequestAuth } from './request-user';
import { clientIp } from '../capture/ip';
import { streamExport } from './export';
import { verifyStore } from '../integrity/verify';
import { entryVisible, restrictFilter, tenantAccess, type TenantAccess } from '../query/tenant';
import { tenantOf } from './request-tenant';

type Allowed = TenantAccess & { allowed: true };
import type { EncryptedReads } from '../encryption/reads';
import type { ErasureResult } from '../encryption/erasure';
import type { Governance } from '../governance/holds';
import type { EventFields } from '../events/record';
import { mountGovernanceRoutes } from './governance-routes';

export interface RouterContext {
  config: Config;
  store: AuditStore;
  /** The instance's entry builder settings: manual entries are built like every other entry. */
  sink: EventSink;
  /** Reports store failures through the middleware's 'error' event. */
  fail(error: unknown): void;
  /**
   * Writes what is queued, so a read right after a write sees it (read-your-writes). Bounded:
   * resolves by its deadline even when the store stalls, and the read goes on.
   */
  flushPending(): Promise<void>;
  /**
   * Queues built entries through the writer (retry, spool, stats) and flushes with a deadline.
   * True when the store confirmed every one of them in time; false when they are still queued.
   */
  write(entries: ReadonlyArray<{ entry: AuditEntry; bytes: number }>): Promise<boolean>;
  /** Records that someone exported the log (who, which filter, how many rows). */
  recordExport(req: Request, details: { rows: number; format: string; query: Record<string, unknown>; capped: boolean }): void;
  /** Retention and legal holds (src/governance). */
  governance: Governance;
  /** Records placing or releasing a hold. */
  recordGovernance(req: Request, fields: EventFields): void;
  /** Extra routers mounted at basePath before the data routes (the admin page). */
  extras?: Router[];
  /** With `encryption`: user filters on the blind index, and entries opened before they are shown. */
  reads?: EncryptedReads | null;
  /** Erases the user named by a request body, and records it; throws AuditLogQueryError on a bad body. */
  erase?: (body: unknown, req: Request) => Promise<ErasureResult & { entry: string | null }>;
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
};

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

/**
 * Manual entries, built by the same builder as events: templates render `message`, and
 * `transform` sees them with the POST request. Each POST gets a fresh request id: the client's
 * X-Request-Id is never reused, so a manual entry cannot pass for an entry of a real request.
 * Null when `transform` threw (reported; none is queued, so a batch is all or nothing).
 */
function buildManualEntries(
  sink: EventSink,
  req: Request,
  entries: ReturnType<typeof parseManualEntries>['entries'],
  poster: string | null,
  tenant: string | null,
): Array<{ entry: AuditEntry; bytes: number }> | null {
  const context: AuditContext = {
    tenant,
    sink,
    user: poster,
    requestId: randomUUID(),
    traceId: traceIdFrom(req.headers.traceparent),
    ipAddress: clientIp(req.ip),
    userAgent: userAgentFrom(req.headers['user-agent']),
    req,
    changes: null,
    changesDropped: 0,
  };
  const built: Array<{ entry: AuditEntry; bytes: number }> = [];
  try {
    for (const fields of entries) {
      const one = buildEntry(sink, context, { ...fields, postedBy: poster });
      if (one) built.push(one);
    }
  } catch (error) {
    sink.fail(error);
    return null;
  }
  return built;
}

export function createQueryRouter(ctx: RouterContext): Router {
  const { config, store } = ctx;
  const reads = ctx.reads ?? null;
  const base = config.basePath;
  const router = express.Router({ caseSensitive: true, strict: false });

  router.use(base, (_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    next();
  });
  for (const extra of ctx.extras ?? []) router.use(base, extra);

  /** 401 without auth, 403 without the scope; the auth comes from `getAuth(req)` or `req.auth`. */
  function checkAuth(req: Request, res: Response, next: NextFunction): void {
    let auth: RequestAuth | null;
    try {
      auth = authOf(req, config);
    } catch (error) {
      ctx.fail(
        new AuditLogStoreError(
          'EAUDIT_AUTH',
          `getAuth failed on ${req.method} ${req.originalUrl.split('?')[0]}: ${(error as Error)?.message ?? error}`,
          0,
          error,
        ),
      );
      return sendError(res, 500, "The app's getAuth option failed on this request; the error was reported through the audit log's 'error' event.");
    }
    if (auth === null) {
      res.setHeader('WWW-Authenticate', 'Bearer');
      const how = config.getAuth ? 'getAuth(req) returned no auth for this request' : 'req.auth is not set';
      return sendError(res, 401, `Authentication required: sign in the way the app accepts (${how}).`);
    }
    if (!scopeAllows(config.scope, scopesOf(auth.scopes))) {
      return sendError(res, 403, `Insufficient scope: the audit log needs ${describeRule(config.scope)}.`);
    }
    next();
  }

  /** Reads: open to anyone with `publicRoutes: true`. */
  function authorize(req: Request, res: Response, next: NextFunction): void {
    if (config.publicRoutes) return next();
    checkAuth(req, res, next);
  }

  /** The verify route: authenticated even with publicRoutes (it reads the whole log), and `verifyScope` on top of `scope`. */
  function authorizeVerify(req: Request, res: Response, next: NextFunction): void {
    checkAuth(req, res, () => {
      if (!config.verifyScope) return next();
      const auth = authOf(req, config);
      if (auth && scopeAllows(config.verifyScope, scopesOf(auth.scopes))) return next();
      sendError(res, 403, `Insufficient scope: verifying the audit log needs ${describeRule(config.verifyScope)}.`);
    });
  }

  /**
   * What the caller may read (query/tenant.ts): everything without tenants; else its tenant's
   * entries, or all with `tenantScope`. Null when the answer (403, or 500 for a failing
   * getTenant) is already sent.
   */
  function accessOf(req: Request, res: Response): Allowed | null {
    const tenants = config.tenants;
    if (!tenants) return tenantAccess({ tenant: null, scopes: null }, null) as Allowed;
    let tenant: string | null;
    try {
      tenant = tenantOf(req, tenants);
    } catch (error) {
      ctx.fail(error);
      sendError(res, 500, "The app's getTenant option failed on this request; the error was reported through the audit log's 'error' event.");
      return null;
    }
    let scopes: string[] | null = null;
    try {
      const auth = authOf(req, config);
      if (auth) scopes = scopesOf(auth.scopes);
    } catch {
      // A public read whose getAuth throws: unauthenticated, so never across tenants.
    }
    const access = tenantAccess({ tenant, scopes }, tenants);
    if (!access.allowed) {
      sendError(res, 403, access.message);
      return null;
    }
    return access;
  }

  const run = (handler: (req: Request, res: Response) => Promise<void>) => (req: Request, res: Response, next: NextFunction) => {
    handler(req, res).catch(next);
  };

  async function list(req: Request, res: Response, extraFilter?: AuditFilter): Promise<void> {
    const parsed = parseListQuery(queryParameters(req), config);
    const access = accessOf(req, res);
    if (!access) return;
    await ctx.flushPending();
    if (extraFilter) {
      const { filter } = parsed.query;
      parsed.query.filter = Object.keys(filter).length === 0 ? extraFilter : { $and: [extraFilter, filter] };
    }
    // Last, around everything: $count, totals and pages count only what the caller may see.
    parsed.query.filter = restrictFilter(parsed.query.filter, access);
    if (parsed.countOnly) {
      res.json(await store.count(reads ? reads.filter(parsed.query.filter) : parsed.query.filter));
      return;
    }
    if (!reads) {
      const { docs, total } = await store.find(parsed.query);
      return void res.json(listBody(docs, total, parsed));
    }
    const { docs, total } = await store.find(reads.query(parsed.query));
    res.json(listBody(await reads.reveal(docs, parsed.query.select), total, parsed));
  }

  router.get(
    base,
    authorize,
    run((req, res) => list(req, res)),
  );

  // Writes are never public: publicRoutes opens the reads only.
  router.post(
    base,
    checkAuth,
    express.json({ limit: '1mb' }),
    run(async (req, res) => {
      if (!config.manualEntries) return sendError(res, 405, 'Manual entries are turned off (manualEntries: false).');
      if (!req.is('application/json')) return sendError(res, 415, 'Send manual entries as JSON with Content-Type: application/json.');
      const poster = userOf(req, config);
      let tenant: string | null = null;
      try {
        // The poster's tenant, never the body's (parseManualEntries refuses a tenant field).
        if (config.tenants) tenant = tenantOf(req, config.tenants);
      } catch (error) {
        ctx.fail(error);
        return sendError(res, 500, "The app's getTenant option failed on this request; the error was reported through the audit log's 'error' event.");
      }
      const { entries, many } = parseManualEntries(req.body, poster);
      entries.forEach((fields, i) => {
        try {
          checkAction(config.actions, config.strictActions, fields.action);
        } catch (error) {
          if (error instanceof AuditLogConfigError)
            throw new AuditLogQueryError(many ? `[${i}].action` : 'action', error.message.replace(/^express-audit-log: /, ''));
          throw error;
        }
      });
      const built = buildManualEntries(ctx.sink, req, entries, poster, tenant);
      if (built === null) {
        return sendError(
          res,
          500,
          "The app's transform option failed on a manual entry; nothing was recorded, and the error was reported through the audit log's 'error' event.",
        );
      }
      // transform dropped the one entry: nothing to store, nothing to show.
      if (!many && built.length === 0) return void res.status(204).end();
      const written = await ctx.write(built);
      const shown = built.map(({ entry }) => present(entry));
      // 201: in the store. 202: accepted but not confirmed in time (the store is slow or down): queued, retried, spooled when spoolDir is set.
      res.status(written ? 201 : 202).json(many ? shown : shown[0]);
    }),
  );

  router.get(
    `${base}/history/:collection/:id`,
    authorize,
    run(async (req, res) => {
      const { collection, id } = req.params as { collection: string; id: string };
      const query = queryParameters(req);
      if (query.collectionName !== undefined || query.documents !== undefined) {
        throw new AuditLogQueryError(
          query.collectionName !== undefined ? 'collectionName' : 'documents',
          'the history route sets collectionName and documents from its path.',
        );
      }
      // Named by the route (as owner or child), or changed by it through mongoose (the diff
      // plugin's `changes`): `POST /verify-email` changes the user, so it is in the user's history.
      await list(req, res, {
        $or: [
          { documents: id, $or: [{ collectionName: collection }, { childCollectionName: collection }] },
          { changes: { $elemMatch: { collectionName: collection, document: id } } },
        ],
      });
    }),
  );

  router.get(
    `${base}/export`,
    authorize,
    run(async (req, res) => {
      const access = accessOf(req, res);
      if (!access) return;
      if (req.method !== 'HEAD') await ctx.flushPending();
      const details = await streamExport(
        store,
        {
          maxRows: config.exportMaxRows,
          defaultLimit: config.defaultLimit,
          maxLimit: config.maxLimit,
          // Checkpoints cover every tenant's entries of a chain: a one-tenant export carries none (nor the lines that go with them).
          integrity: config.integrity !== null && access.crossTenant,
          restrict: (filter) => restrictFilter(filter, access),
          reads,
        },
        req,
        res,
      );
      // A HEAD exported nothing: not recorded.
      if (details) ctx.recordExport(req, details);
    }),
  );

  let openApi: string | null = null;
  router.get(`${base}/openapi.json`, authorize, (req, res) => {
    for (const name of Object.keys(queryParameters(req))) {
      throw new AuditLogQueryError(name, `unknown query parameter '${name.slice(0, 64)}'; this route takes none.`);
    }
    openApi ??= JSON.stringify(buildOpenApi(config));
    res.type('application/json').send(openApi);
  });

  router.get(
    `${base}/stats`,
    authorize,
    run(async (req, res) => {
      const request = parseStatsQuery(queryParameters(req));
      const sealed = config.encryption?.fields ?? [];
      if (request.groupBy && (sealed as readonly string[]).includes(request.groupBy)) {
        // Sealed entries store the field as null: grouping would lump them together, not count per value.
        throw new AuditLogQueryError(
          'groupBy',
          `groupBy=${request.groupBy} is not available: ${request.groupBy} is sealed by the encryption option. Group by another field, or filter with ${request.groupBy}=… instead.`,
        );
      }
      const access = accessOf(req, res);
      if (!access) return;
      await ctx.flushPending();
      // Counts only what the caller may see: totals and top lists say nothing of other tenants.
      // With encryption, ?user= also matches the user's sealed entries (by their blind index), as on the list route.
      request.filter = restrictFilter(reads ? reads.filter(request.filter) : request.filter, access);
      try {
        res.json(await computeStats(store, request));
      } catch (error) {
        if (error instanceof StatsUnsupportedError) return sendError(res, 501, error.message);
        throw error;
      }
    }),
  );

  // One verification at a time: each reads every entry in its range.
  let verifying = false;
  router.get(
    `${base}/verify`,
    authorizeVerify,
    run(async (req, res) => {
      const integrity = config.integrity;
      if (!integrity)
        return sendError(
          res,
          404,
          'Verification needs the integrity option, e.g. auditLog({ integrity: { signingKey } }): without it entries carry no chain to verify.',
        );
      const raw = queryParameters(req);
      for (const name of Object.keys(raw)) {
        if (name !== 'from' && name !== 'to')
          throw new AuditLogQueryError(name, `unknown query parameter '${name.slice(0, 64)}'; the verify route accepts only from and to.`);
      }
      const { from, to } = parseDateRange(raw);
      const access = accessOf(req, res);
      if (!access) return;
      // A chain interleaves every tenant's entries: checking it reads them all, and its report
      // (counts, gaps, positions) describes them all. So only callers reading across tenants verify.
      if (!access.crossTenant) return sendError(res, 403, "Verifying reads the entries of every tenant: it needs the tenantScope option's scopes.");
      if (verifying) {
        res.setHeader('Retry-After', '5');
        return sendError(res, 429, 'A verification is already running; try again when it has finished.');
      }
      verifying = true;
      try {
        await ctx.flushPending();
        res.json(await verifyStore(store, { from, to, publicKeys: integrity.publicKeys, ttlSeconds: config.ttlSeconds }));
      } finally {
        verifying = false;
      }
    }),
  );

  // Erasures: authenticated even with publicRoutes, `scope` and `eraseScope` both; no eraseScope configured: nobody may.
  router.post(
    `${base}/erasures`,
    (req, res, next) =>
      checkAuth(req, res, () => {
        if (!ctx.erase)
          return sendError(res, 404, "Erasure needs the encryption option, e.g. auditLog({ encryption: { masterKey }, eraseScope: ['privacy'] }).");
        if (!config.eraseScope) return sendError(res, 403, 'Erasure is not allowed: the eraseScope option names who may erase, and it is not set.');
        const auth = authOf(req, config);
        if (auth && scopeAllows(config.eraseScope, scopesOf(auth.scopes))) return next();
        sendError(res, 403, `Insufficient scope: erasing needs ${describeRule(config.eraseScope)}.`);
      }),
    express.json({ limit: '16kb' }),
    run(async (req, res) => {
      if (!req.is('application/json')) return sendError(res, 415, 'Send the erasure as JSON with Content-Type: application/json: { "user": "<user id>" }.');
      const { entries, keys, subjects, entry } = await ctx.erase!(req.body, req);
      res.status(200).json({ erased: { entries, keys, subjects }, entry });
    }),
  );
  const acrossTenants = (req: Request, res: Response, next: NextFunction): void => {
    if (!config.tenants) return next();
    const access = accessOf(req, res);
    if (!access) return;
    if (!access.crossTenant) return sendError(res, 403, "Retention and legal holds concern every tenant's entries: they need the tenantScope option's scopes.");
    next();
  };
  mountGovernanceRoutes(router, ctx, { authorize, checkAuth, run, sendError, acrossTenants });

  router.get(
    `${base}/:id`,
    authorize,
    run(async (req, res) => {
      const id = (req.params as { id: string }).id;
      if (!isObjectIdString(id)) throw new AuditLogQueryError('id', `'${id.slice(0, 64)}' is not an entry id: ids are 24 hexadecimal characters.`);
      const parameters = queryParameters(req);
      for (const name of Object.keys(parameters)) {
        if (name !== '$select') throw new AuditLogQueryError(name, `unknown query parameter '${name.slice(0, 64)}'; this route accepts only $select.`);
      }
      const access = accessOf(req, res);
      if (!access) return;
      await ctx.flushPending();
      const stored = await store.findById(id.toLowerCase());
      // Another tenant's entry gets the very answer a missing one gets.
      if (!stored || !entryVisible(stored, access)) return sendError(res, 404, 'No audit entry was found with that id.');
      const entry = reads ? ((await reads.reveal([stored]))[0] as AuditEntry) : stored;
      const selected = parseListQuery({ $select: parameters.$select ?? [] }, config).query.select;
      const shown = selected ? Object.fromEntries(Object.entries(entry).filter(([key]) => (selected as string[]).includes(key) || key === 'erased')) : entry;
      res.json(present(shown));
    }),
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
      return sendError(res, status, status === 413 ? 'The body is too large (1 MB at most).' : 'The body is not valid JSON.');
    }
    ctx.fail(error);
    sendError(res, 503, 'The audit store is unavailable; try again later.');
  });

  return router;
}
