/**
 * Builds the entry for a finished response. Called once per recorded request, after the
 * response is on the wire, so none of this is on the client's path.
 */
import { performance } from 'perf_hooks';
import type { Request, Response } from 'express';
import type { AuditEntry, AssociationType } from '../entry';
import { describeRequest } from '../capture/describe';
import { sanitize, sanitizeParsedJson, type SanitizeLimits, type Sanitized } from '../capture/sanitize';
import { idString } from '../capture/documents';
import { decodeSegment } from '../capture/route-pattern';
import { clientIp } from '../capture/ip';
import { protectIp } from '../capture/ip-privacy';
import { REDACTED } from '../capture/redact';
import { traceIdFrom, userAgentFrom } from '../capture/correlation';
import { annotationOf } from './annotate';
import { userOf } from './request-user';
import { recordedTenant } from './request-tenant';
import type { Config } from '../options';
import type { AuditContext } from '../events/context';
import { sanitizeChanges, takeChanges } from '../events/changes';
import { messageFor } from '../events/actions';

export interface Recording {
  start: number;
  /** The method and the URL path (with the mount prefix, without the query), read once when the recorder saw the request. */
  method: string;
  url: string;
  /** Path below the middleware's mount point, at the time the middleware ran: describes a request no route handled. */
  path: string;
  requestId: string;
  /** The last string or Buffer handed to res.send (res.json ends there too). */
  body: string | Buffer | undefined;
  /** The route params while the route ran (route-capture.ts), whichever way the response ends. */
  params: Record<string, unknown> | null;
  /** The pattern of the route that handled the request (`req.route.path`), noted while it ran; undefined when none did. */
  routePath: unknown;
  /** The mount point of that route's router (`req.baseUrl` while it ran). */
  baseUrl: string;
  /** The request's audit context: the mongoose plugin collects its diffs there. */
  context?: AuditContext | null;
  /** Journal mode: builds the entry inside res.end() (end-capture.ts); null builds it when the response closes. */
  onEnd?: ((res: Response, rec: Recording) => void) | null;
}

export interface BuildContext {
  config: Config;
  limits: SanitizeLimits;
  newId: () => string;
  inferAssociation: ((owner: string, child: string) => AssociationType | null) | null;
  /** Reports a failure of the app's callbacks (getTenant) without costing the entry. */
  fail?: (error: unknown) => void;
}

const NULL_SANITIZED: Sanitized = { value: null, bytes: 0, truncated: false };

function isEmpty(value: unknown): boolean {
  if (value === undefined || value === null || value === '') return true;
  return typeof value === 'object' && !Array.isArray(value) && Object.keys(value as object).length === 0 && !(value instanceof Date);
}

function contentLength(req: Request): number | null {
  const header = req.headers?.['content-length'];
  const length = header === undefined ? NaN : Number(header);
  return Number.isFinite(length) ? length : null;
}

function isJson(res: Response): boolean {
  const type = res.getHeader('content-type');
  return typeof type === 'string' && /[/+]json\b/i.test(type);
}

/** The response body as a value: parsed JSON when it is JSON, else the text, else a marker. */
function responseBody(res: Response, body: string | Buffer | undefined, limits: SanitizeLimits): Sanitized {
  if (body === undefined || res.statusCode === 204 || res.statusCode === 304) return NULL_SANITIZED;
  const bytes = typeof body === 'string' ? (body.length * 3 > limits.maxBytes ? Buffer.byteLength(body) : body.length) : body.byteLength;
  if (bytes === 0) return NULL_SANITIZED;
  if (bytes > limits.maxBytes) return sanitize(null, limits, bytes);
  if (isJson(res)) {
    try {
      // Parsed here, so owned here: cleaned in place rather than copied a second time.
      return sanitizeParsedJson(JSON.parse(typeof body === 'string' ? body : body.toString('utf8')), limits, bytes);
    } catch {
      // declared JSON but is not: keep the text below
    }
  }
  if (typeof body !== 'string') {
    const type = res.getHeader('content-type');
    if (typeof type !== 'string' || !/^text\//i.test(type)) return { value: `[Binary: ${body.byteLength} bytes]`, bytes: 24, truncated: false };
    return sanitize(body.toString('utf8'), limits, bytes);
  }
  return sanitize(body, limits, bytes);
}

function messageOf(result: unknown, res: Response): string | null {
  if (result !== null && typeof result === 'object' && !Array.isArray(result)) {
    const { message, error } = result as Record<string, unknown>;
    const text = typeof message === 'string' ? message : typeof error === 'string' ? error : null;
    if (text) return text.slice(0, 1000);
    if (error && typeof error === 'object' && typeof (error as { message?: unknown }).message === 'string') {
      return (error as { message: string }).message.slice(0, 1000);
    }
  }
  if (typeof result === 'string' && result.length > 0 && !result.startsWith('[Truncated') && !/^\s*</.test(result)) return result.slice(0, 1000);
  return res.statusMessage || null;
}

/** Values of route params whose names are secret (`/reset/:token`): they must not survive in the path or the ids. */
function secretParamValues(params: Record<string, unknown> | null, isSecret: (key: string) => boolean): Set<string> | null {
  let values: Set<string> | null = null; // allocated only when there is one: almost never
  for (const name in params) {
    const value = params[name];
    if (typeof value === 'string' && value !== '' && isSecret(name)) (values ??= new Set()).add(value);
  }
  return values;
}

/** Replaces secret param values in the path, inside a segment too (`/reset/42-<token>`, `/confirm/<token>.json`). */
function redactPath(path: string, secrets: ReadonlySet<string>): string {
  return path
    .split('/')
    .map((segment) => {
      const decoded = decodeSegment(segment);
      let redacted = decoded;
      for (const secret of secrets) if (redacted.includes(secret)) redacted = redacted.split(secret).join(REDACTED);
      return redacted === decoded ? segment : redacted;
    })
    .join('/');
}

const ABORTED_MESSAGE = 'Aborted: the client closed the connection before the response was complete.';

/**
 * Returns the entry and its estimated size, or null when the app asked to skip it. `ending`:
 * called from inside res.end() (journal mode), so the response is complete, not aborted,
 * though not yet finished on the wire.
 */
export function buildEntry(ctx: BuildContext, req: Request, res: Response, rec: Recording, ending = false): { entry: AuditEntry; bytes: number } | null {
  const annotation = annotationOf(req);
  if (annotation?.skip) return null;
  const { config, limits } = ctx;
  // 'close' before the response finished: the client went away. The status is the one the app
  // sent, or set before the client left; a default 200 nobody sent is no status at all.
  const aborted = !ending && !res.writableFinished;
  const status = aborted && !res.headersSent && res.statusCode === 200 ? null : res.statusCode;
  const isError = aborted || (status !== null && status >= 400);
  const headers = req.headers ?? {};

  const payload = isEmpty(req.body) ? NULL_SANITIZED : sanitize(req.body, limits, contentLength(req));
  const response = responseBody(res, rec.body, limits);
  const params = rec.params && !isEmpty(rec.params) ? sanitize(rec.params, limits) : NULL_SANITIZED;

  const described = describeRequest({
    method: rec.method,
    path: rec.path,
    route: rec.routePath === undefined ? null : { baseUrl: rec.baseUrl, pattern: rec.routePath, params: rec.params },
    payload: payload.value,
    result: response.value,
    isError,
    associations: config.associations,
    inferAssociation: ctx.inferAssociation,
  });

  const pending = rec.context ? takeChanges(rec.context) : null;
  const changes = pending && (pending.changes.length > 0 || pending.dropped > 0) ? sanitizeChanges(pending.changes, limits, pending.dropped) : null;

  let truncated: string[] | null = null;
  if (payload.truncated) (truncated ??= []).push('payload');
  if (response.truncated) (truncated ??= []).push('result');
  if (changes?.truncated) (truncated ??= []).push('changes');

  let documents =
    annotation?.documents !== undefined
      ? (annotation.documents?.map((id) => idString(id)).filter((id): id is string => id !== null) ?? null)
      : described.documents;
  let endpoint = rec.url.slice(0, 2048);
  const secrets = secretParamValues(rec.params, limits.isSecret);
  if (secrets) {
    endpoint = redactPath(endpoint, secrets);
    documents = documents?.map((id) => (secrets.has(id) ? REDACTED : id)) ?? null;
  }

  const entry: AuditEntry = {
    _id: ctx.newId(),
    date: new Date(),
    method: rec.method,
    action: annotation?.action ?? described.action,
    endpoint,
    user: annotation?.user !== undefined ? annotation.user : userOf(req, config),
    collectionName: annotation?.collectionName !== undefined ? annotation.collectionName : described.collectionName,
    childCollectionName: annotation?.childCollectionName !== undefined ? annotation.childCollectionName : described.childCollectionName,
    associationType: annotation?.associationType !== undefined ? annotation.associationType : described.associationType,
    documents,
    payload: payload.value as AuditEntry['payload'],
    params: params.value as AuditEntry['params'],
    // rest-hapi stores no result for errors; the message is kept in responseMessage.
    result: isError ? null : (response.value as AuditEntry['result']),
    statusCode: status,
    isError,
    responseMessage: aborted ? ABORTED_MESSAGE : isError ? messageOf(response.value, res) : null,
    ipAddress: protectIp(clientIp(req.ip), config.ipAddress),
    notes: annotation?.notes ?? null,
    requestId: rec.requestId,
    traceId: traceIdFrom(headers.traceparent),
    durationMs: Math.round((performance.now() - rec.start) * 1000) / 1000,
    userAgent: userAgentFrom(headers['user-agent']),
    truncated,
    message: null,
    changes: changes?.value ?? null,
  };
  if (aborted) entry.aborted = true;
  // Only with getTenant: without it entries keep the shape they always had.
  if (config.tenants) entry.tenant = recordedTenant(req, config.tenants, ctx.fail);
  entry.message = messageFor(config.actions, entry);
  return { entry, bytes: 512 + payload.bytes + (isError ? 0 : response.bytes) + params.bytes + (changes?.bytes ?? 0) };
}
