/**
 * The audit context: who is acting, under which request and trace id, for which audit
 * instance, and where diffs seen meanwhile are collected. It travels with the async call
 * chain through AsyncLocalStorage, so audited functions and the mongoose plugin find it
 * without being handed `req`.
 *
 * The storage is the one module-level object in the package, on purpose: a function audited
 * in a service module, or a plugin installed on a schema, cannot know the instance in
 * advance, and one storage shared by every instance is what lets them find "the current one".
 */
import { AsyncLocalStorage } from 'async_hooks';
import type { SanitizeLimits } from '../capture/sanitize';
import type { AuditEntry } from '../entry';
import type { Config } from '../options';

/** What one `auditLog()` instance lends to events: its settings and its writer. */
export interface EventSink {
  readonly config: Config;
  readonly limits: SanitizeLimits;
  newId(): string;
  push(entry: AuditEntry, bytes: number): void;
  /** Reports a failure through the instance's 'error' event; never throws. */
  fail(error: unknown): void;
  /**
   * The audit context of a request given to `record(req, …)`: the adapter's, since only it knows
   * its framework's request (where the user, ip and headers are, how to echo the request id).
   */
  contextOf(req: unknown): AuditContext;
}

/** A change the plugin saw, not yet sanitized (values are the driver's: ObjectIds, Dates). */
export interface PendingChange {
  collectionName: string;
  document: string | null;
  op: 'update' | 'delete';
  path: string;
  from?: unknown;
  to?: unknown;
}

export interface AuditContext {
  /** The instance recording what happens here; null when it is disabled (record nothing, warn nothing). */
  readonly sink: EventSink | null;
  /** Read when an entry is built, since auth middleware may run after the recorder. */
  readonly user: string | null;
  readonly requestId: string | null;
  readonly traceId: string | null;
  readonly ipAddress: string | null;
  readonly userAgent: string | null;
  /** With `getTenant`: the tenant entries made here belong to (the request's, or the one `runWithContext` was given). */
  readonly tenant: string | null;
  /** The framework's request, when this context is one: `transform` is given it. */
  readonly req: unknown;
  /**
   * Diffs waiting for the request's entry. Null when no entry will take them (a job's
   * context, or a request whose entry is already built): the plugin then records each
   * write as an entry of its own.
   */
  changes: PendingChange[] | null;
  /** Diffs not kept because `changes` was full. */
  changesDropped: number;
}

const storage = new AsyncLocalStorage<AuditContext>();

/**
 * Whether anything reads the context: an audited function, the mongoose plugin, runWithContext.
 * Until one exists, the recorder does not enter the context, because the first
 * AsyncLocalStorage.run() turns on async-hook propagation for every async operation in the
 * process (measured: several µs per request, GETs included). They are set up at start-up, so
 * in practice this flips once, before the first request.
 */
let consumed = false;

export function markContextConsumed(): void {
  consumed = true;
}

export function contextConsumed(): boolean {
  return consumed;
}

export function currentContext(): AuditContext | undefined {
  return storage.getStore();
}

export function runInContext<T>(context: AuditContext, fn: () => T): T {
  return storage.run(context, fn);
}

/**
 * Makes `context` current for the rest of this execution and what it starts: for frameworks
 * whose request lifecycle gives no `next` to wrap (Hapi's extensions), so the handler that runs
 * later sees it. Such an adapter enters one for every request (undefined for one it does not
 * record): what is entered outlives the request on its connection.
 */
export function enterContext(context: AuditContext | undefined): void {
  // undefined: leaves the context of whatever ran before on this connection (a keep-alive request).
  storage.enterWith(context as AuditContext);
}

/** Where an audit handle keeps its sink; `audited(fn, { audit })` reads it. */
export const SINK = Symbol('express-audit-log.sink');

export type SinkHolder = { readonly [SINK]?: EventSink | null };

/**
 * An instance's handle as events see it: what `audited(fn, { audit })` and `auditChanges({ audit })`
 * accept (the middleware `auditLog()` returns, or another adapter's handle). Only its sink is read.
 */
export interface AuditHandle extends SinkHolder {
  readonly enabled: boolean;
}

/** A request that changes more than this through mongoose keeps the first ones and counts the rest. */
export const MAX_CHANGES = 1000;
