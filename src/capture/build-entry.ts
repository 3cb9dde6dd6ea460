/**
 * Builds the entry of a finished request from plain facts about it, whichever framework served
 * it: each adapter gathers the facts (express/entry-builder.ts for Express) and calls this.
 */
import { performance } from 'perf_hooks';
import type { AssociationType, AuditEntry } from '../entry';
import { messageFor } from '../events/actions';
import { sanitizeChanges, takeChanges } from '../events/changes';
import type { AuditContext } from '../events/context';
import type { AuditAnnotation, Config } from '../options';
import { traceIdFrom, userAgentFrom } from './correlation';
import { describeRequest } from './describe';
import { idString } from './documents';
import { clientIp } from './ip';
import { protectIp } from './ip-privacy';
import { REDACTED } from './redact';
import { decodeSegment, type MatchedRoute } from './route-pattern';
import { sanitize, sanitizeParsedJson, type SanitizeLimits, type Sanitized } from './sanitize';

export interface BuildContext {
  config: Config;
  limits: SanitizeLimits;
  newId: () => string;
  inferAssociation: ((owner: string, child: string) => AssociationType | null) | null;
  /** Reports a failure of the app's callbacks (getTenant) without costing the entry. */
  fail?: (error: unknown) => void;
}

/** What an adapter knows of a finished request and its response. */
export interface FinishedRequest {
  method: string;
  /** The URL path with the mount prefix, without the query string: the entry's endpoint. */
  url: string;
  /** The path below the middleware's mount point: describes a request no route handled. */
  path: string;
  /** The route that handled the request (its router's mount point, its pattern, its params); null when none did. */
  route: MatchedRoute | null;
  /** The route params while the route ran. */
  params: Record<string, unknown> | null;
  headers: Record<string, string | string[] | undefined>;
  /** The client address as the framework resolved it (its trust-proxy setting decides), never raw headers. */
  ip: string | undefined;
  /** The parsed request body. */
  body: unknown;
  /** The status to store: null when the client left before any status was sent. */
  statusCode: number | null;
  /** The status the response carries (204 and 304 have no body). */
  responseStatus: number;
  statusMessage: string | null;
  /** The last string or Buffer the app sent. */
  responseBody: string | Buffer | undefined;
  contentType: string | null;
  /** The client closed the connection before the response was complete. */
  aborted: boolean;
  /** performance.now() when the request was first seen. */
  start: number;
  requestId: string;
  annotation: AuditAnnotation | undefined;
  /** Read only when the annotation does not name the user: the app's getUser/getAuth may be costly. */
  user(): string | null;
  /** Read only with getTenant. */
  tenant(): string | null;
  /** The request's audit context: the mongoose plugin collects its diffs there. */
  context: AuditContext | null | undefined;
}

const NULL_SANITIZED: Sanitized = { value: null, bytes: 0, truncated: false };

function isEmpty(value: unknown): boolean {
  if (value === undefined || value === null || value === '') return true;
  return typeof value === 'object' && !Array.isArray(value) && Object.keys(value as object).length === 0 && !(value instanceof Date);
}

function contentLength(headers: FinishedRequest['headers']): number | null {
  const header = headers['content-length'];
  const length = header === undefined ? NaN : Number(header);
  return Number.isFinite(length) ? length : null;
}

function isJson(contentType: string | null): boolean {
  return typeof contentType === 'string' && /[/+]json\b/i.test(contentType);
}

/** The response body as a value: parsed JSON when it is JSON, else the text, else a marker. */
function responseBody(facts: FinishedRequest, limits: SanitizeLimits): Sanitized {
  const body = facts.responseBody;
  if (body === undefined || facts.responseStatus === 204 || facts.responseStatus === 304) return NULL_SANITIZED;
  const bytes = typeof body === 'string' ? (body.length * 3 > limits.maxBytes ? Buffer.byteLength(body) : body.length) : body.byteLength;
  if (bytes === 0) return NULL_SANITIZED;
  if (bytes > limits.maxBytes) return sanitize(null, limits, bytes);
  if (isJson(facts.contentType)) {
    try {
      // Parsed here, so owned here: cleaned in place rather than copied a second time.
      return sanitizeParsedJson(JSON.parse(typeof body === 'string' ? body : body.toString('utf8')), limits, bytes);
    } catch {
      // declared JSON but is not: keep the text below
    }
  }
  if (typeof body !== 'string') {
    const type = facts.contentType;
    if (typeof type !== 'string' || !/^text\//i.test(type)) return { value: `[Binary: ${body.byteLength} bytes]`, bytes: 24, truncated: false };
    return sanitize(body.toString('utf8'), limits, bytes);
  }
  return sanitize(body, limits, bytes);
}

function messageOf(result: unknown, statusMessage: string | null): string | null {
  if (result !== null && typeof result === 'object' && !Array.isArray(result)) {
    const { message, error } = result as Record<string, unknown>;
    const text = typeof message === 'string' ? message : typeof error === 'string' ? error : null;
    if (text) return text.slice(0, 1000);
    if (error && typeof error === 'object' && typeof (error as { message?: unknown }).message === 'string') {
      return (error as { message: string }).message.slice(0, 1000);
    }
  }
  if (typeof result === 'string' && result.length > 0 && !result.startsWith('[Truncated') && !/^\s*</.test(result)) return result.slice(0, 1000);
  return statusMessage || null;
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
 * Returns the entry and its estimated size, or null when the app asked to skip it. Called once
 * per recorded request, after the response is on the wire, so none of this is on the client's path.
 */
export function buildEntryFromFacts(ctx: BuildContext, facts: FinishedRequest): { entry: AuditEntry; bytes: number } | null {
  const { annotation } = facts;
  if (annotation?.skip) return null;
  const { config, limits } = ctx;
  const { aborted, statusCode: status, headers } = facts;
  const isError = aborted || (status !== null && status >= 400);

  const payload = isEmpty(facts.body) ? NULL_SANITIZED : sanitize(facts.body, limits, contentLength(headers));
  const response = responseBody(facts, limits);
  const params = facts.params && !isEmpty(facts.params) ? sanitize(facts.params, limits) : NULL_SANITIZED;

  const described = describeRequest({
    method: facts.method,
    path: facts.path,
    route: facts.route,
    payload: payload.value,
    result: response.value,
    isError,
    associations: config.associations,
    inferAssociation: ctx.inferAssociation,
  });

  const pending = facts.context ? takeChanges(facts.context) : null;
  const changes = pending && (pending.changes.length > 0 || pending.dropped > 0) ? sanitizeChanges(pending.changes, limits, pending.dropped) : null;

  let truncated: string[] | null = null;
  if (payload.truncated) (truncated ??= []).push('payload');
  if (response.truncated) (truncated ??= []).push('result');
  if (changes?.truncated) (truncated ??= []).push('changes');

  let documents =
    annotation?.documents !== undefined
      ? (annotation.documents?.map((id) => idString(id)).filter((id): id is string => id !== null) ?? null)
      : described.documents;
  let endpoint = facts.url.slice(0, 2048);
  const secrets = secretParamValues(facts.params, limits.isSecret);
  if (secrets) {
    endpoint = redactPath(endpoint, secrets);
    documents = documents?.map((id) => (secrets.has(id) ? REDACTED : id)) ?? null;
  }

  const entry: AuditEntry = {
    _id: ctx.newId(),
    date: new Date(),
    method: facts.method,
    action: annotation?.action ?? described.action,
    endpoint,
    user: annotation?.user !== undefined ? annotation.user : facts.user(),
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
    responseMessage: aborted ? ABORTED_MESSAGE : isError ? messageOf(response.value, facts.statusMessage) : null,
    ipAddress: protectIp(clientIp(facts.ip), config.ipAddress),
    notes: annotation?.notes ?? null,
    requestId: facts.requestId,
    traceId: traceIdFrom(headers.traceparent),
    durationMs: Math.round((performance.now() - facts.start) * 1000) / 1000,
    userAgent: userAgentFrom(headers['user-agent']),
    truncated,
    message: null,
    changes: changes?.value ?? null,
  };
  if (aborted) entry.aborted = true;
  // Only with getTenant: without it entries keep the shape they always had.
  if (config.tenants) entry.tenant = facts.tenant();
  entry.message = messageFor(config.actions, entry);
  return { entry, bytes: 512 + payload.bytes + (isError ? 0 : response.bytes) + params.bytes + (changes?.bytes ?? 0) };
}
