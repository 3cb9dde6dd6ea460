/**
 * The query routes' logic with no web framework: each takes plain facts about the caller
 * (auth, tenant, user, headers, ip), the query parameters as a plain object and the body, and
 * returns an answer `{ status, body, headers? }`, or throws an AuditLogQueryError (a 400 naming
 * the parameter) or a store's error (a 503, reported). Each adapter's routes only translate:
 * express/router.ts for Express. Errors are `{ statusCode, error, message }` and never contain entries.
 */
import { randomUUID } from 'crypto';
import { decodeKeys } from '../capture/keys';
import { traceIdFrom, userAgentFrom } from '../capture/correlation';
import { clientIp } from '../capture/ip';
import type { ErasureResult } from '../encryption/erasure';
import type { EncryptedReads } from '../encryption/reads';
import type { AuditEntry } from '../entry';
import { AuditLogConfigError, AuditLogQueryError, AuditLogStoreError } from '../errors';
import { checkAction } from '../events/actions';
import type { AuditContext, EventSink } from '../events/context';
import { buildEntry, emitEntry, type EventFields } from '../events/record';
import type { Governance } from '../governance/holds';
import { retentionReport } from '../governance/retention-report';
import { verifyStore } from '../integrity/verify';
import type { Config, ScopeRule } from '../options';
import type { AuditFilter, AuditStore } from '../stores/types';
import { isObjectIdString } from './coerce';
import { parseDateRange, parseListQuery, type ListRequest } from './list-query';
import { parseManualEntries } from './manual-entry';
import type { ExportDetails, ExportSettings } from './export';
import { buildOpenApi } from './openapi';
import { describeRule, scopeAllows, scopesOf } from './scope';
import { computeStats, parseStatsQuery, StatsUnsupportedError } from './stats';
import { entryVisible, restrictFilter, tenantAccess, type TenantAccess } from './tenant';

/** What a route answers; the adapter writes it as JSON (a string body as it is, with its Content-Type header). */
export interface QueryAnswer {
  status: number;
  /** Undefined: no body (204). */
  body?: unknown;
  headers?: Record<string, string>;
}

/** What the caller's auth says, as `getAuth(req)` or the framework's usual place gave it. */
export interface CallerAuth {
  user: unknown;
  scopes: unknown;
}

/** What the adapter knows of the caller; the functions are read only when a route needs them. */
export interface QueryCaller {
  method: string;
  /** The path, without the query string: named in reported failures. */
  path: string;
  headers: Record<string, string | string[] | undefined>;
  ip: string | undefined;
  /** The framework's request: manual entries hand it to `transform`. */
  req: unknown;
  /** Null when not authenticated; throws when the app's getAuth throws. */
  auth(): CallerAuth | null;
  /** The caller's tenant with `getTenant`; throws when getTenant fails. */
  tenant(): string | null;
  /** The user id entries name (getUser, else the auth's user); never throws. */
  user(): string | null;
}

export interface QueryServiceContext {
  config: Config;
  store: AuditStore;
  sink: EventSink;
  /** Reports a failure through the instance's 'error' event. */
  fail(error: unknown): void;
  /** Writes what is queued before a read (read-your-writes), bounded. */
  flushPending(): Promise<void>;
  /** Queues built entries and flushes; true when the store confirmed every one in time. */
  write(entries: ReadonlyArray<{ entry: AuditEntry; bytes: number }>): Promise<boolean>;
  governance: Governance;
  reads?: EncryptedReads | null;
  /** With `encryption`: erases the user a body names, and records it in the context `contextOf` gives once done. */
  erase?: (body: unknown, contextOf: () => AuditContext) => Promise<ErasureResult & { entry: string | null }>;
  /** The audit context of the caller's request: where an export, a hold or an erasure is recorded. */
  contextOf(caller: QueryCaller): AuditContext;
  /** How the adapter reads auth, for the 401 message ('req.auth is not set'). */
  missingAuth: string;
}

/**
 * What an adapter's routes get from the core: the service's context but for what the adapter itself
 * knows (how a request becomes a caller and a context, where auth is kept), and where a finished
 * export is recorded (in the exporting request's context).
 */
export interface QueryRoutesContext<Req> extends Omit<QueryServiceContext, 'contextOf' | 'missingAuth'> {
  recordExport(request: Req, details: ExportDetails): void;
}

export type Allowed = TenantAccess & { allowed: true };

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

/** The most each route's JSON body may hold, in bytes: every adapter reads its bodies to these limits. */
export const BODY_LIMITS = { manualEntries: 1024 * 1024, erasures: 16 * 1024, holds: 64 * 1024 } as const;

/** 1048576 → '1 MB', 16384 → '16 KB'. */
function sizeOf(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${bytes / (1024 * 1024)} MB` : `${bytes / 1024} KB`;
}

/** A body the route's parser refused (too large, or not JSON), in the same words on every adapter, naming the route's limit. */
export function bodyRefusal(status: 400 | 413 | 415, maxBytes: number): QueryAnswer {
  return errorAnswer(status, status === 413 ? `The body is too large (${sizeOf(maxBytes)} at most).` : 'The body is not valid JSON.');
}

export function errorAnswer(status: number, message: string, extra: Record<string, unknown> = {}, headers?: Record<string, string>): QueryAnswer {
  const answer: QueryAnswer = { status, body: { statusCode: status, error: STATUS_TEXT[status] ?? 'Error', message, ...extra } };
  if (headers) answer.headers = headers;
  return answer;
}

export function isAnswer(value: unknown): value is QueryAnswer {
  return value !== null && typeof value === 'object' && typeof (value as QueryAnswer).status === 'number';
}

/** Stored keys are encoded (see capture/keys); answers give them back as the app sent them. */
export function present(doc: Partial<AuditEntry>): Partial<AuditEntry> {
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

const GET_TENANT_FAILED = "The app's getTenant option failed on this request; the error was reported through the audit log's 'error' event.";

/** A gate's verdict: null lets the request through, an answer refuses it. */
export type Gate = QueryAnswer | null;

export type QueryService = ReturnType<typeof createQueryService>;

export function createQueryService(ctx: QueryServiceContext) {
  const { config, store, governance } = ctx;
  const reads = ctx.reads ?? null;

  /** 401 without auth, 403 without the scope. */
  function checkAuth(caller: QueryCaller): Gate {
    let auth: CallerAuth | null;
    try {
      auth = caller.auth();
    } catch (error) {
      ctx.fail(new AuditLogStoreError('EAUDIT_AUTH', `getAuth failed on ${caller.method} ${caller.path}: ${(error as Error)?.message ?? error}`, 0, error));
      return errorAnswer(500, "The app's getAuth option failed on this request; the error was reported through the audit log's 'error' event.");
    }
    if (auth === null)
      return errorAnswer(401, `Authentication required: sign in the way the app accepts (${ctx.missingAuth}).`, {}, { 'WWW-Authenticate': 'Bearer' });
    if (!scopeAllows(config.scope, scopesOf(auth.scopes))) return errorAnswer(403, `Insufficient scope: the audit log needs ${describeRule(config.scope)}.`);
    return null;
  }

  /** checkAuth, then `rule` on top of `scope` (after checkAuth passed, auth() does not throw). */
  function extraScope(caller: QueryCaller, rule: ScopeRule, refusal: string): Gate {
    const auth = caller.auth();
    if (auth && scopeAllows(rule, scopesOf(auth.scopes))) return null;
    return errorAnswer(403, refusal);
  }

  /**
   * What the caller may read (query/tenant.ts): everything without tenants; else its tenant's
   * entries, or all with `tenantScope`. An answer (403, or 500 for a failing getTenant) when it may not.
   */
  function access(caller: QueryCaller): Allowed | QueryAnswer {
    const tenants = config.tenants;
    if (!tenants) return tenantAccess({ tenant: null, scopes: null }, null) as Allowed;
    let tenant: string | null;
    try {
      tenant = caller.tenant();
    } catch (error) {
      ctx.fail(error);
      return errorAnswer(500, GET_TENANT_FAILED);
    }
    let scopes: string[] | null = null;
    try {
      const auth = caller.auth();
      if (auth) scopes = scopesOf(auth.scopes);
    } catch {
      // A public read whose getAuth throws: unauthenticated, so never across tenants.
    }
    const verdict = tenantAccess({ tenant, scopes }, tenants);
    if (!verdict.allowed) return errorAnswer(403, verdict.message);
    return verdict as Allowed;
  }

  /**
   * With tenants (`getTenant`): only callers reading across tenants (`tenantScope`) pass. The
   * retention report counts every tenant's entries and a hold covers them: neither is one tenant's.
   */
  function acrossTenants(caller: QueryCaller): Gate {
    if (!config.tenants) return null;
    const allowed = access(caller);
    if (isAnswer(allowed)) return allowed;
    if (!allowed.crossTenant) return errorAnswer(403, "Retention and legal holds concern every tenant's entries: they need the tenantScope option's scopes.");
    return null;
  }

  async function list(caller: QueryCaller, parameters: Record<string, unknown>, extraFilter?: AuditFilter): Promise<QueryAnswer> {
    const parsed = parseListQuery(parameters, config);
    const allowed = access(caller);
    if (isAnswer(allowed)) return allowed;
    await ctx.flushPending();
    if (extraFilter) {
      const { filter } = parsed.query;
      parsed.query.filter = Object.keys(filter).length === 0 ? extraFilter : { $and: [extraFilter, filter] };
    }
    // Last, around everything: $count, totals and pages count only what the caller may see.
    parsed.query.filter = restrictFilter(parsed.query.filter, allowed);
    if (parsed.countOnly) return { status: 200, body: await store.count(reads ? reads.filter(parsed.query.filter) : parsed.query.filter) };
    if (!reads) {
      const { docs, total } = await store.find(parsed.query);
      return { status: 200, body: listBody(docs, total, parsed) };
    }
    const { docs, total } = await store.find(reads.query(parsed.query));
    return { status: 200, body: listBody(await reads.reveal(docs, parsed.query.select), total, parsed) };
  }

  /**
   * Manual entries, built by the same builder as events: templates render `message`, and
   * `transform` sees them with the POST request. Each POST gets a fresh request id: the client's
   * X-Request-Id is never reused, so a manual entry cannot pass for an entry of a real request.
   * Null when `transform` threw (reported; none is queued, so a batch is all or nothing).
   */
  function buildManualEntries(
    caller: QueryCaller,
    entries: ReturnType<typeof parseManualEntries>['entries'],
    poster: string | null,
    tenant: string | null,
  ): Array<{ entry: AuditEntry; bytes: number }> | null {
    const { sink } = ctx;
    const context: AuditContext = {
      tenant,
      sink,
      user: poster,
      requestId: randomUUID(),
      traceId: traceIdFrom(caller.headers.traceparent),
      ipAddress: clientIp(caller.ip),
      userAgent: userAgentFrom(caller.headers['user-agent']),
      req: caller.req,
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

  let openApi: string | null = null;
  // One verification at a time: each reads every entry in its range.
  let verifying = false;

  // Placing and releasing a hold are recorded like an export: same identity, sanitizing and transform as record().
  const recordGovernance = (caller: QueryCaller, fields: EventFields): void => void emitEntry(ctx.sink, ctx.contextOf(caller), fields);

  return {
    /** Data reads: open to anyone with `publicRoutes: true`. */
    authorize(caller: QueryCaller): Gate {
      return config.publicRoutes ? null : checkAuth(caller);
    },
    /** Writes: never public. */
    checkAuth,
    /** The verify route: authenticated even with publicRoutes (it reads the whole log), and `verifyScope` on top of `scope`. */
    authorizeVerify(caller: QueryCaller): Gate {
      const gate = checkAuth(caller);
      if (gate || !config.verifyScope) return gate;
      return extraScope(caller, config.verifyScope, `Insufficient scope: verifying the audit log needs ${describeRule(config.verifyScope)}.`);
    },
    /** Erasures: authenticated even with publicRoutes, `scope` and `eraseScope` both; no eraseScope configured: nobody may. */
    authorizeErase(caller: QueryCaller): Gate {
      const gate = checkAuth(caller);
      if (gate) return gate;
      if (!ctx.erase) return errorAnswer(404, "Erasure needs the encryption option, e.g. auditLog({ encryption: { masterKey }, eraseScope: ['privacy'] }).");
      if (!config.eraseScope) return errorAnswer(403, 'Erasure is not allowed: the eraseScope option names who may erase, and it is not set.');
      return extraScope(caller, config.eraseScope, `Insufficient scope: erasing needs ${describeRule(config.eraseScope)}.`);
    },
    acrossTenants,
    /** Holds stop deletion: never public, and `holdScope` on top of `scope`. */
    authorizeHolds(caller: QueryCaller): Gate {
      const gate = checkAuth(caller);
      if (gate) return gate;
      const rule = config.holdScope;
      if (!rule) return errorAnswer(403, 'Legal holds are turned off: set the holdScope option (the scope a caller needs to place and release holds).');
      const auth = caller.auth();
      if (!auth || !scopeAllows(rule, scopesOf(auth.scopes))) return errorAnswer(403, `Insufficient scope: legal holds need ${describeRule(rule)}.`);
      if (!governance.holdStore) return errorAnswer(501, 'This store does not implement legal holds.');
      return acrossTenants(caller);
    },
    access,
    /** How an export reads for a caller `access` allowed: the list's limits, its tenant's entries, opened entries with encryption. */
    exportSettings(allowed: Allowed): ExportSettings {
      return {
        maxRows: config.exportMaxRows,
        defaultLimit: config.defaultLimit,
        maxLimit: config.maxLimit,
        // Checkpoints cover every tenant's entries of a chain: a one-tenant export carries none (nor the lines that go with them).
        integrity: config.integrity !== null && allowed.crossTenant,
        restrict: (filter) => restrictFilter(filter, allowed),
        reads,
      };
    },

    /** `GET {basePath}`: the list, rest-hapi's shape, or a count with `$count`. */
    list: (caller: QueryCaller, parameters: Record<string, unknown>) => list(caller, parameters),

    /** `GET {basePath}/history/:collection/:id`: what named or changed one document. */
    history(caller: QueryCaller, collection: string, id: string, parameters: Record<string, unknown>): Promise<QueryAnswer> {
      if (parameters.collectionName !== undefined || parameters.documents !== undefined) {
        throw new AuditLogQueryError(
          parameters.collectionName !== undefined ? 'collectionName' : 'documents',
          'the history route sets collectionName and documents from its path.',
        );
      }
      // Named by the route (as owner or child), or changed by it through mongoose (the diff
      // plugin's `changes`): `POST /verify-email` changes the user, so it is in the user's history.
      return list(caller, parameters, {
        $or: [
          { documents: id, $or: [{ collectionName: collection }, { childCollectionName: collection }] },
          { changes: { $elemMatch: { collectionName: collection, document: id } } },
        ],
      });
    },

    /** `GET {basePath}/:id`, with `$select`. Another tenant's entry gets the very answer a missing one gets. */
    async getById(caller: QueryCaller, id: string, parameters: Record<string, unknown>): Promise<QueryAnswer> {
      if (!isObjectIdString(id)) throw new AuditLogQueryError('id', `'${id.slice(0, 64)}' is not an entry id: ids are 24 hexadecimal characters.`);
      for (const name of Object.keys(parameters)) {
        if (name !== '$select') throw new AuditLogQueryError(name, `unknown query parameter '${name.slice(0, 64)}'; this route accepts only $select.`);
      }
      const allowed = access(caller);
      if (isAnswer(allowed)) return allowed;
      await ctx.flushPending();
      const stored = await store.findById(id.toLowerCase());
      if (!stored || !entryVisible(stored, allowed)) return errorAnswer(404, 'No audit entry was found with that id.');
      const entry = reads ? ((await reads.reveal([stored]))[0] as AuditEntry) : stored;
      const selected = parseListQuery({ $select: parameters.$select ?? [] }, config).query.select;
      const shown = selected ? Object.fromEntries(Object.entries(entry).filter(([key]) => (selected as string[]).includes(key) || key === 'erased')) : entry;
      return { status: 200, body: present(shown) };
    },

    /**
     * `POST {basePath}`: manual entries, from a JSON body the adapter parsed. 201: in the store;
     * 202: accepted but not confirmed in time (queued, retried, spooled when spoolDir is set).
     */
    async manualEntries(caller: QueryCaller, body: unknown): Promise<QueryAnswer> {
      if (!config.manualEntries) return errorAnswer(405, 'Manual entries are turned off (manualEntries: false).');
      const poster = caller.user();
      let tenant: string | null = null;
      try {
        // The poster's tenant, never the body's (parseManualEntries refuses a tenant field).
        if (config.tenants) tenant = caller.tenant();
      } catch (error) {
        ctx.fail(error);
        return errorAnswer(500, GET_TENANT_FAILED);
      }
      const { entries, many } = parseManualEntries(body, poster);
      entries.forEach((fields, i) => {
        try {
          checkAction(config.actions, config.strictActions, fields.action);
        } catch (error) {
          if (error instanceof AuditLogConfigError)
            throw new AuditLogQueryError(many ? `[${i}].action` : 'action', error.message.replace(/^express-audit-log: /, ''));
          throw error;
        }
      });
      const built = buildManualEntries(caller, entries, poster, tenant);
      if (built === null) {
        return errorAnswer(
          500,
          "The app's transform option failed on a manual entry; nothing was recorded, and the error was reported through the audit log's 'error' event.",
        );
      }
      // transform dropped the one entry: nothing to store, nothing to show.
      if (!many && built.length === 0) return { status: 204 };
      const written = await ctx.write(built);
      const shown = built.map(({ entry }) => present(entry));
      return { status: written ? 201 : 202, body: many ? shown : shown[0] };
    },

    /** `GET {basePath}/openapi.json`: built once, served as the same text. */
    openapi(parameters: Record<string, unknown>): QueryAnswer {
      for (const name of Object.keys(parameters)) {
        throw new AuditLogQueryError(name, `unknown query parameter '${name.slice(0, 64)}'; this route takes none.`);
      }
      openApi ??= JSON.stringify(buildOpenApi(config));
      return { status: 200, body: openApi, headers: { 'Content-Type': 'application/json' } };
    },

    /** `GET {basePath}/stats`: counts of what the caller may see. */
    async stats(caller: QueryCaller, parameters: Record<string, unknown>): Promise<QueryAnswer> {
      const request = parseStatsQuery(parameters);
      const sealed = config.encryption?.fields ?? [];
      if (request.groupBy && (sealed as readonly string[]).includes(request.groupBy)) {
        // Sealed entries store the field as null: grouping would lump them together, not count per value.
        throw new AuditLogQueryError(
          'groupBy',
          `groupBy=${request.groupBy} is not available: ${request.groupBy} is sealed by the encryption option. Group by another field, or filter with ${request.groupBy}=… instead.`,
        );
      }
      const allowed = access(caller);
      if (isAnswer(allowed)) return allowed;
      await ctx.flushPending();
      // Counts only what the caller may see: totals and top lists say nothing of other tenants.
      // With encryption, ?user= also matches the user's sealed entries (by their blind index), as on the list route.
      request.filter = restrictFilter(reads ? reads.filter(request.filter) : request.filter, allowed);
      try {
        return { status: 200, body: await computeStats(store, request) };
      } catch (error) {
        if (error instanceof StatsUnsupportedError) return errorAnswer(501, error.message);
        throw error;
      }
    },

    /** `GET {basePath}/verify`: checks the integrity chain, one verification at a time. */
    async verify(caller: QueryCaller, parameters: Record<string, unknown>): Promise<QueryAnswer> {
      const integrity = config.integrity;
      if (!integrity)
        return errorAnswer(
          404,
          'Verification needs the integrity option, e.g. auditLog({ integrity: { signingKey } }): without it entries carry no chain to verify.',
        );
      for (const name of Object.keys(parameters)) {
        if (name !== 'from' && name !== 'to')
          throw new AuditLogQueryError(name, `unknown query parameter '${name.slice(0, 64)}'; the verify route accepts only from and to.`);
      }
      const { from, to } = parseDateRange(parameters);
      const allowed = access(caller);
      if (isAnswer(allowed)) return allowed;
      // A chain interleaves every tenant's entries: checking it reads them all, and its report
      // (counts, gaps, positions) describes them all. So only callers reading across tenants verify.
      if (!allowed.crossTenant) return errorAnswer(403, "Verifying reads the entries of every tenant: it needs the tenantScope option's scopes.");
      if (verifying) return errorAnswer(429, 'A verification is already running; try again when it has finished.', {}, { 'Retry-After': '5' });
      verifying = true;
      try {
        await ctx.flushPending();
        return { status: 200, body: await verifyStore(store, { from, to, publicKeys: integrity.publicKeys, ttlSeconds: config.ttlSeconds }) };
      } finally {
        verifying = false;
      }
    },

    /** `POST {basePath}/erasures`, after authorizeErase, with the JSON body the adapter parsed. */
    async erase(caller: QueryCaller, body: unknown): Promise<QueryAnswer> {
      if (!ctx.erase) return errorAnswer(404, "Erasure needs the encryption option, e.g. auditLog({ encryption: { masterKey }, eraseScope: ['privacy'] }).");
      const { entries, keys, subjects, entry } = await ctx.erase(body, () => ctx.contextOf(caller));
      return { status: 200, body: { erased: { entries, keys, subjects }, entry } };
    },

    /** `GET {basePath}/retention`: the rules in force, with what they govern. */
    async retention(): Promise<QueryAnswer> {
      await ctx.flushPending();
      return { status: 200, body: await retentionReport(store, config.retention, config.ttlSeconds) };
    },

    /** `POST {basePath}/holds`, after authorizeHolds: places a legal hold, and records it. */
    async placeHold(caller: QueryCaller, body: unknown): Promise<QueryAnswer> {
      const fields = (body ?? {}) as { filter?: unknown; reason?: unknown };
      const { hold, held } = await governance.place({ filter: fields.filter, reason: fields.reason }, caller.user());
      recordGovernance(caller, {
        action: 'PlaceHold',
        collectionName: 'auditLog',
        documents: [hold._id],
        payload: { filter: hold.filter, reason: hold.reason },
        result: { held },
      });
      return { status: 201, body: { ...hold, active: true, held } };
    },

    /** `GET {basePath}/holds`, after authorizeHolds. */
    async listHolds(): Promise<QueryAnswer> {
      const holds = await governance.list();
      return { status: 200, body: holds.map((hold) => ({ ...hold, active: hold.releasedAt === null })) };
    },

    /** `DELETE {basePath}/holds/:id`, after authorizeHolds: releases a hold, and records it when it was active. */
    async releaseHold(caller: QueryCaller, id: string): Promise<QueryAnswer> {
      if (!isObjectIdString(id)) return errorAnswer(404, 'No hold was found with that id.');
      const outcome = await governance.release(id.toLowerCase(), caller.user());
      if (!outcome) return errorAnswer(404, 'No hold was found with that id.');
      if (outcome.changed) {
        recordGovernance(caller, {
          action: 'ReleaseHold',
          collectionName: 'auditLog',
          documents: [outcome.hold._id],
          payload: { reason: outcome.hold.reason },
          result: { released: outcome.released },
        });
      }
      return { status: 200, body: { ...outcome.hold, active: false, released: outcome.released } };
    },
  };
}
