/**
 * The event methods of an audit handle: `record()`, `audited()` and `runWithContext()`,
 * bound to one instance's sink (null for a disabled instance: nothing is recorded, the
 * functions still run and bad input still throws, so a disabled test setup catches typos).
 */
import { randomUUID } from 'crypto';
import { userString } from '../capture/user-id';
import { tenantString } from '../query/tenant';
import { AuditLogConfigError, show } from '../errors';
import { auditedBy, type AnyFunction, type AuditedOptions } from './audited';
import { markContextConsumed, runInContext, type AuditContext, type EventSink } from './context';
import { checkEvent, recordEvent, type AuditEvent } from './record';

/** Who and what a context outside HTTP stands for (a job, a queue consumer, a CLI). */
export interface AuditContextInit {
  user?: string | number | null;
  /** Defaults to a new UUID, shared by everything recorded inside. */
  requestId?: string;
  traceId?: string | null;
  ipAddress?: string | null;
  /** With `getTenant`: the tenant what is recorded inside belongs to. Defaults to none (readable with `tenantScope` only). */
  tenant?: string | number | null;
}

const INIT_KEYS = ['user', 'requestId', 'traceId', 'ipAddress', 'tenant'];

function initError(field: string, message: string): never {
  throw new AuditLogConfigError('EAUDIT_CONTEXT', field, message);
}

function optionalText(init: Record<string, unknown>, key: string, max: number): string | null {
  const value = init[key];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || value === '' || value.length > max)
    initError(key, `runWithContext() ${key} must be a string of 1 to ${max} characters or null; got ${show(value)}.`);
  return value;
}

function contextFrom(sink: EventSink | null, init: unknown): AuditContext {
  if (init === null || typeof init !== 'object' || Array.isArray(init)) {
    initError('context', `runWithContext(context, fn) needs a context object like { user: 'job:nightly' }; got ${show(init)}.`);
  }
  const fields = init as Record<string, unknown>;
  for (const key of Object.keys(fields)) {
    if (!INIT_KEYS.includes(key)) initError(key, `runWithContext() got unknown field '${key}'; accepted: ${INIT_KEYS.join(', ')}.`);
  }
  const tenant = fields.tenant === undefined || fields.tenant === null ? null : tenantString(fields.tenant);
  if (fields.tenant !== undefined && fields.tenant !== null && tenant === null)
    initError('tenant', `runWithContext() tenant must be an id (a string of 1 to 256 characters or a number); got ${show(fields.tenant)}.`);
  const user = fields.user === undefined || fields.user === null ? null : userString(fields.user);
  if (fields.user !== undefined && fields.user !== null && user === null)
    initError('user', `runWithContext() user must be an id (a string or number); got ${show(fields.user)}.`);
  return {
    sink,
    user,
    requestId: optionalText(fields, 'requestId', 128) ?? randomUUID(),
    traceId: optionalText(fields, 'traceId', 128),
    ipAddress: optionalText(fields, 'ipAddress', 64),
    userAgent: null,
    tenant,
    req: null,
    // No entry will carry diffs made here: the plugin records each write as its own entry.
    changes: null,
    changesDropped: 0,
  };
}

/** The event methods, for an adapter whose requests are `Req` (Express's `Request` for `auditLog()`). */
export interface EventMethods<Req = unknown> {
  /**
   * Records a custom event (Login, Approve, Export…) through the same pipeline as requests.
   * With `req`, user, ip, requestId and traceId come from it; with null, from the current
   * context (a request or `runWithContext`), if any. Returns the entry's id, or null when the
   * instance is disabled or `transform` dropped it. Throws an AuditLogConfigError on a
   * malformed event (EAUDIT_EVENT) or, with `strictActions`, an unregistered action
   * (EAUDIT_UNKNOWN_ACTION).
   */
  record(req: Req | null, event: AuditEvent): string | null;
  /** Wraps `fn` so that every call is recorded into this instance; see `audited()`. */
  audited<F extends AnyFunction>(fn: F, options?: AuditedOptions<Parameters<F>, ReturnType<F>>): F;
  /**
   * Runs `fn` in an audit context outside HTTP (a job, a queue consumer): audited calls and
   * mongoose diffs inside it are recorded into this instance with this user and request id.
   */
  runWithContext<T>(context: AuditContextInit, fn: () => T): T;
}

export function eventMethods(sink: EventSink | null): EventMethods {
  return {
    record(req, event) {
      if (sink) return recordEvent(sink, req, event);
      checkEvent(event);
      return null;
    },
    audited: auditedBy(sink),
    runWithContext(init, fn) {
      if (typeof fn !== 'function') initError('fn', `runWithContext(context, fn) needs a function; got ${show(fn)}.`);
      markContextConsumed();
      return runInContext(contextFrom(sink, init), fn);
    },
  };
}
