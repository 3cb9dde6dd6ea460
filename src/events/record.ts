/**
 * Entries that do not come from an HTTP response: custom events (`audit.record()`), audited
 * function calls and diffs made outside a request. They take the same road as request
 * entries: an id from the same generator, the same redaction and caps, the same writer.
 */
import { idString } from '../capture/documents';
import { userString } from '../capture/user-id';
import { protectIp } from '../capture/ip-privacy';
import { sanitize, type Sanitized } from '../capture/sanitize';
import { blankEntry, type AuditEntry } from '../entry';
import { AuditLogConfigError, show } from '../errors';
import { checkAction, messageFor, MAX_ACTION_LENGTH } from './actions';
import { sanitizeChanges } from './changes';
import { currentContext, type AuditContext, type EventSink, type PendingChange } from './context';

/** A custom event, for `audit.record(req | null, event)`. */
export interface AuditEvent {
  /** What happened: 'Login', 'Approve', 'record.publish'… Up to 128 characters. */
  action: string;
  collectionName?: string | null;
  /** Ids of the documents concerned (strings, numbers or ObjectIds); listed by the history route. */
  documents?: ReadonlyArray<unknown> | null;
  notes?: string | null;
  /** Overrides the user taken from the request or the current context. */
  user?: string | number | null;
  /** Details of the event, stored (redacted, capped) as `payload`. */
  payload?: unknown;
  /** An outcome, stored (redacted, capped) as `result`. */
  result?: unknown;
  /** Marks a failed attempt (a refused login). Defaults to false. */
  isError?: boolean;
  /** Stored as `message` instead of the action's rendered template. */
  message?: string;
}

const EVENT_KEYS: ReadonlyArray<keyof AuditEvent> = ['action', 'collectionName', 'documents', 'notes', 'user', 'payload', 'result', 'isError', 'message'];
const MAX_TEXT = 10_000;
const MAX_IDS = 1000;
const NOTHING: Sanitized = { value: null, bytes: 0, truncated: false };

/** What an entry of this kind carries besides identity; everything else stays null. */
export interface EventFields {
  action: string;
  method?: string | null;
  endpoint?: string | null;
  collectionName?: string | null;
  childCollectionName?: string | null;
  associationType?: AuditEntry['associationType'];
  statusCode?: number | null;
  /** Manual entries: who posted it. */
  postedBy?: string | null;
  params?: unknown;
  documents?: string[] | null;
  notes?: string | null;
  /** Set only to override the context's user. */
  user?: string | null;
  payload?: unknown;
  result?: unknown;
  isError?: boolean;
  responseMessage?: string | null;
  durationMs?: number | null;
  message?: string | null;
  changes?: { list: PendingChange[]; dropped: number } | null;
  /** Values the caller already sanitized (a snapshot of arguments taken before the call): sanitizing twice would encode keys twice. */
  sanitized?: { payload?: Sanitized; result?: Sanitized };
}

export function ids(values: ReadonlyArray<unknown> | null | undefined): string[] | null {
  if (values === null || values === undefined) return null;
  const out: string[] = [];
  for (const value of values.slice(0, MAX_IDS)) {
    const id = idString(value);
    if (id !== null) out.push(id);
  }
  return out;
}

/**
 * Builds and sanitizes one entry, renders its message and applies `transform` (with the
 * context's request, or null outside one). Null when `transform` dropped it. Throws what
 * `transform` throws.
 */
export function buildEntry(sink: EventSink, context: AuditContext | null | undefined, fields: EventFields): { entry: AuditEntry; bytes: number } | null {
  const { limits, config } = sink;
  const entry = blankEntry(sink.newId(), new Date());
  const payload = fields.sanitized?.payload ?? (fields.payload === undefined ? NOTHING : sanitize(fields.payload, limits));
  const result = fields.sanitized?.result ?? (fields.result === undefined ? NOTHING : sanitize(fields.result, limits));
  const params = fields.params === undefined || fields.params === null ? NOTHING : sanitize(fields.params, limits);
  const changes = fields.changes ? sanitizeChanges(fields.changes.list, limits, fields.changes.dropped) : null;
  const truncated = [payload.truncated && 'payload', params.truncated && 'params', result.truncated && 'result', changes?.truncated && 'changes'].filter(
    (f): f is string => !!f,
  );

  entry.action = fields.action;
  entry.method = fields.method ?? null;
  entry.endpoint = fields.endpoint ?? null;
  entry.collectionName = fields.collectionName ?? null;
  entry.childCollectionName = fields.childCollectionName ?? null;
  entry.associationType = fields.associationType ?? null;
  entry.statusCode = fields.statusCode ?? null;
  entry.params = params.value as AuditEntry['params'];
  entry.postedBy = fields.postedBy ?? null;
  entry.documents = fields.documents ?? null;
  entry.notes = fields.notes ?? null;
  entry.payload = payload.value as AuditEntry['payload'];
  entry.result = result.value as AuditEntry['result'];
  entry.isError = fields.isError ?? false;
  entry.responseMessage = fields.responseMessage ?? null;
  entry.durationMs = fields.durationMs ?? null;
  entry.changes = changes?.value ?? null;
  entry.truncated = truncated.length > 0 ? truncated : null;
  entry.user = fields.user !== undefined ? fields.user : (context?.user ?? null);
  entry.requestId = context?.requestId ?? null;
  entry.traceId = context?.traceId ?? null;
  entry.ipAddress = protectIp(context?.ipAddress ?? null, config.ipAddress);
  if (config.tenants) entry.tenant = context?.tenant ?? null;
  entry.userAgent = context?.userAgent ?? null;
  entry.message = messageFor(config.actions, entry, fields.message);

  // Events outside a request go through transform too, with null: it is the app's last word on every entry.
  const final = config.transform ? config.transform(entry, context?.req ?? null) : entry;
  if (!final) return null;
  return { entry: final, bytes: 512 + payload.bytes + params.bytes + result.bytes + (changes?.bytes ?? 0) + (entry.message?.length ?? 0) };
}

/** Builds, sanitizes and queues one entry. Never throws: a failure is reported and null returned. */
export function emitEntry(sink: EventSink, context: AuditContext | null | undefined, fields: EventFields): string | null {
  try {
    const built = buildEntry(sink, context, fields);
    if (!built) return null;
    sink.push(built.entry, built.bytes);
    return built.entry._id;
  } catch (error) {
    sink.fail(error);
    return null;
  }
}

function eventError(field: string, message: string): never {
  throw new AuditLogConfigError('EAUDIT_EVENT', field, message);
}

/** Mistakes a developer makes once (a typo, a missing action) throw at the call; values never do. */
export function checkEvent(event: unknown): asserts event is AuditEvent {
  if (event === null || typeof event !== 'object' || Array.isArray(event)) {
    eventError('event', `record(req | null, event) needs an event object like { action: 'Login' }; got ${show(event)}.`);
  }
  for (const key of Object.keys(event)) {
    if (!(EVENT_KEYS as readonly string[]).includes(key)) eventError(key, `record() got unknown field '${key}'; accepted: ${EVENT_KEYS.join(', ')}.`);
  }
  const { action, documents, isError, message } = event as AuditEvent;
  if (typeof action !== 'string' || action.trim() === '' || action.length > MAX_ACTION_LENGTH) {
    eventError('action', `record() needs an action: a name of 1 to ${MAX_ACTION_LENGTH} characters like 'Login'; got ${show(action)}.`);
  }
  if (documents !== undefined && documents !== null && !Array.isArray(documents))
    eventError('documents', `record() documents must be an array of ids or null; got ${show(documents)}.`);
  if (isError !== undefined && typeof isError !== 'boolean') eventError('isError', `record() isError must be true or false; got ${show(isError)}.`);
  if (message !== undefined && typeof message !== 'string') eventError('message', `record() message must be a string; got ${show(message)}.`);
}

function text(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  return String(value).slice(0, MAX_TEXT);
}

/** Every framework's request has a headers object; an event passed first has none. */
function looksLikeRequest(value: unknown): boolean {
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as { headers?: unknown }).headers === 'object' &&
    (value as { headers?: unknown }).headers !== null
  );
}

/** `audit.record(req | null, event)`: the identity comes from `req`, else from the current context. */
export function recordEvent(sink: EventSink, req: unknown, event: AuditEvent): string | null {
  if (req !== null && req !== undefined && !looksLikeRequest(req)) {
    const hint =
      typeof (req as { action?: unknown }).action === 'string' ? ' It looks like the event was passed first: use record(null, event) outside a request.' : '';
    eventError('req', `record(req, event) needs an Express request or null as its first argument; got ${show(req)}.${hint}`);
  }
  checkEvent(event);
  checkAction(sink.config.actions, sink.config.strictActions, event.action);
  const context = req ? sink.contextOf(req) : currentContext();
  return emitEntry(sink, context, {
    action: event.action,
    collectionName: text(event.collectionName)?.slice(0, 256) ?? null,
    documents: ids(event.documents),
    notes: text(event.notes),
    ...(event.user !== undefined ? { user: userString(event.user) } : {}),
    payload: event.payload,
    result: event.result,
    isError: event.isError ?? false,
    message: event.message ?? null,
  });
}
