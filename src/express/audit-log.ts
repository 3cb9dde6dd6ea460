/**
 * `auditLog()`: parses the options once, then wires the layers: the recorder (express/) feeds
 * the writer (pipeline/), which feeds the store (stores/); the query router reads the store.
 * The returned middleware is also the handle the app keeps: `close()`, `stats()`, events.
 */
import { EventEmitter } from 'events';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { ObjectId } from 'bson';
import { secretKeyMatcher } from '../capture/redact';
import type { SanitizeLimits } from '../capture/sanitize';
import { AuditLogConfigError, AuditLogStoreError } from '../errors';
import { annotate } from './annotate';
import { createRecorder } from './recorder';
import { createQueryRouter } from './router';
import { createUiRouter } from './ui-router';
import { SINK, type EventSink } from '../events/context';
import { eventMethods, type EventMethods } from '../events/handle';
import { contextOfRequest, recordedContext } from './request-context';
import { emitEntry, type EventFields } from '../events/record';
import { parseOptions, type AuditAnnotation, type AuditCoreOptions, type Config } from '../options';
import { FileSpool } from '../pipeline/spool';
import { SpoolOwner } from '../pipeline/spool-owner';
import { Journal } from '../pipeline/journal';
import { WriteReceipts } from '../pipeline/write-receipts';
import { Writer, type AuditStats } from '../pipeline/writer';
import type { AuditStore } from '../stores/types';
import type { AuditEntry } from '../entry';
import { defaultStore } from '../stores/default-store';
import { Chain } from '../integrity/chain';
import { createDelivery } from '../delivery/delivery';

/** `audit.stats()`: the store's writer, and with `deliver` the delivery's (`written` = acknowledged by the endpoint). */
export interface AuditLogStats extends AuditStats {
  delivery?: AuditStats;
}
import { currentContext } from '../events/context';
import { Keyring } from '../encryption/keyring';
import { EncryptedReads } from '../encryption/reads';
import { storesDataKeys, withDataKeys } from '../encryption/store';
import { eraseUser, erasureUser, type ErasureRequest, type ErasureResult } from '../encryption/erasure';
import { Governance } from '../governance/holds';
import { integrityConflict } from '../governance/retention';

/** The options of `auditLog()`: the app's callbacks (`getUser`, `getAuth`, `getTenant`, `transform`) get Express's `req`. */
export type AuditLogOptions = AuditCoreOptions<Request>;

export interface AuditLogMiddleware extends RequestHandler, EventMethods<Request> {
  /** Records only: mount it first to also record requests your auth middleware rejects. */
  readonly recorder: RequestHandler;
  /** Serves only the query routes. */
  readonly routes: RequestHandler;
  /** False when `enabled: false` or AUDIT_LOG_ENABLED=false: the middleware only calls next(). */
  readonly enabled: boolean;
  /** The store in use, or null when disabled. */
  readonly store: AuditStore | null;
  /** Writes everything queued now; resolves when written, when the store fails for now, or after `deadlineMs` (default: no deadline). */
  flush(deadlineMs?: number): Promise<void>;
  /** Flushes what it can before the deadline (ms, default 10000), spools or counts the rest, closes the store. */
  close(deadlineMs?: number): Promise<void>;
  stats(): AuditLogStats;
  on(event: 'error', listener: (error: AuditLogStoreError) => void): this;
  once(event: 'error', listener: (error: AuditLogStoreError) => void): this;
  off(event: 'error', listener: (error: AuditLogStoreError) => void): this;
  /** Same as `auditLog.annotate`. */
  annotate(req: Request, annotation: AuditAnnotation): void;
  /**
   * With the `encryption` option: deletes the user's data keys, so their entries' sealed fields
   * are unreadable for good (the entries and the integrity chain stay, and verify). Records an
   * `Erase` entry that holds no plaintext of the user. Rejects without `encryption`.
   */
  erase(request: ErasureRequest): Promise<ErasureResult>;
  /** With `encryption.previousKeys`: re-wraps every data key under the current master key. Resolves to how many were re-wrapped, and how many no configured key could open. */
  rotateMasterKey(): Promise<{ rewrapped: number; unreadable: number }>;
}

const ZERO_STATS: AuditStats = { recorded: 0, written: 0, failed: 0, retried: 0, spooled: 0, replayed: 0, dropped: 0, queued: 0, queuedBytes: 0 };

function newId(): string {
  return new ObjectId().toHexString();
}

/**
 * How long a query route waits for the writer before it reads (or answers a manual entry):
 * long enough for a healthy store to take a batch, short enough that a stalled one does not
 * hang every read. Then the read goes on with what the store has.
 */
const ROUTE_FLUSH_DEADLINE_MS = 1000;
/** What sealing adds to an entry's stored size (the blind index, a key id, a nonce and a tag, base64). */
const SEALED_BYTES = 160;

/** True when the promise settled before the time was up, false at the deadline; never rejects. */
function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
    timer.unref();
  });
  return Promise.race([
    promise.then(
      () => true,
      () => true,
    ),
    timeout,
  ]).finally(() => clearTimeout(timer));
}

/**
 * `writer.flush()` bounded by ROUTE_FLUSH_DEADLINE_MS for the query routes. While a flush that
 * outlived its deadline is still running (the store stalls), later calls do not wait at all:
 * one slow read per stall, not one per read.
 */
function boundedFlush(writer: Writer): () => Promise<void> {
  let stalled: Promise<void> | null = null;
  return async () => {
    if (stalled) return;
    const flushing = writer.flush();
    if (await within(flushing, ROUTE_FLUSH_DEADLINE_MS)) return;
    const clear = () => {
      stalled = null;
    };
    stalled = flushing.then(clear, clear);
  };
}

/** Emits 'error' when someone listens; otherwise logs each kind of failure once, not a flood. */
function reporter(emitter: EventEmitter, config: Config): (error: unknown) => void {
  const logged = new Set<string>();
  return (error: unknown) => {
    const failure =
      error instanceof AuditLogStoreError
        ? error
        : new AuditLogStoreError('EAUDIT_CAPTURE', `building an entry failed: ${(error as Error)?.message ?? error}`, 1, error);
    if (emitter.listenerCount('error') > 0) {
      emitter.emit('error', failure);
      return;
    }
    if (logged.has(failure.code)) return;
    logged.add(failure.code);
    config.logger.error(
      `${failure.message} [${failure.code}] (listen for audit.on('error') to handle these; later ones of this kind are only counted in audit.stats())`,
    );
  };
}

function attach(middleware: RequestHandler, emitter: EventEmitter, members: object, sink: EventSink | null): AuditLogMiddleware {
  const handle = Object.assign(middleware, members, eventMethods(sink)) as AuditLogMiddleware;
  Object.defineProperty(handle, SINK, { value: sink });
  Object.assign(handle, {
    on: (event: string, listener: (...args: unknown[]) => void) => (emitter.on(event, listener), handle),
    once: (event: string, listener: (...args: unknown[]) => void) => (emitter.once(event, listener), handle),
    off: (event: string, listener: (...args: unknown[]) => void) => (emitter.off(event, listener), handle),
    annotate,
  });
  return handle;
}

function disabled(emitter: EventEmitter): AuditLogMiddleware {
  const passThrough: RequestHandler = function auditLogDisabled(_req, _res, next) {
    next();
  };
  return attach(
    passThrough,
    emitter,
    {
      recorder: passThrough,
      routes: passThrough,
      enabled: false,
      store: null,
      flush: async () => undefined,
      close: async () => undefined,
      stats: () => ({ ...ZERO_STATS }),
      erase: async () => ({ entries: 0, keys: 0, subjects: [] }),
      rotateMasterKey: async () => ({ rewrapped: 0, unreadable: 0 }),
    },
    null,
  );
}

/** Creates the audit middleware. Throws AuditLogConfigError at once when an option is wrong. */
export function auditLog(options?: AuditLogOptions): AuditLogMiddleware {
  const config = parseOptions(options);
  const emitter = new EventEmitter();
  if (!config.enabled) return disabled(emitter);

  const report = reporter(emitter, config);
  const store = config.store ?? defaultStore();
  if (config.encryption && !storesDataKeys(store)) {
    throw new AuditLogConfigError(
      'EAUDIT_OPTION',
      'encryption',
      'encryption needs a store that keeps data keys (insertDataKeys, findDataKeys, updateDataKeys, deleteDataKeys): mongoStore(), fileStore() and memoryStore() do; this store does not.',
    );
  }
  // Encryption off: no keyring, and entries are queued as they are built.
  const keyring = config.encryption && storesDataKeys(store) ? new Keyring(store, config.encryption) : null;
  const reads = keyring && config.encryption ? new EncryptedReads(keyring, config.encryption.fields) : null;
  const limits: SanitizeLimits = { maxDepth: config.maxDepth, maxBytes: config.maxFieldBytes, isSecret: secretKeyMatcher(config.redactKeys) };
  // The spool's own codes (EAUDIT_SPOOL_UNSAFE, EAUDIT_SPOOL_CORRUPT) pass as they are; disk errors become EAUDIT_SPOOL.
  // One owner tag for this instance's spool segments and journal files: other processes sharing spoolDir leave them alone while it runs.
  const owner = config.spoolDir ? new SpoolOwner(config.spoolDir) : null;
  const spool =
    config.spoolDir && owner
      ? new FileSpool(
          config.spoolDir,
          (error) =>
            report(
              error instanceof AuditLogStoreError
                ? error
                : new AuditLogStoreError('EAUDIT_SPOOL', `the spool at ${config.spoolDir} failed: ${error.message}`, 0, error),
            ),
          owner,
        )
      : null;
  const journal =
    config.durability === 'journal' && spool && owner && config.spoolDir
      ? new Journal(
          config.spoolDir,
          owner,
          () => spool.ready(),
          (error) =>
            report(
              error instanceof AuditLogStoreError
                ? error
                : new AuditLogStoreError('EAUDIT_JOURNAL', `the journal in ${config.spoolDir} failed: ${error.message}`, 0, error),
            ),
        )
      : null;
  let closing: Promise<void> | null = null;
  /** After close(): what is left in spoolDir is up for adoption by the next process to start. */
  const releaseOwner = () => {
    try {
      owner?.release();
    } catch (error) {
      report(new AuditLogStoreError('EAUDIT_SPOOL', `removing the spool's owner lock failed: ${(error as Error).message}`, 0, error));
    }
  };
  // Manual entries answer 201 once the store confirmed them: the writer's store reports what it wrote.
  const receipts = new WriteReceipts();
  // Integrity off: no chain, and push() does no hashing at all.
  const chain = config.integrity ? new Chain({ ...config.integrity, ttlSeconds: config.ttlSeconds }) : null;
  const conflict = config.integrity ? integrityConflict(config.retention, config.ttlSeconds) : null;
  // After this call returns, so an 'error' listener attached right after auditLog() hears it.
  if (conflict) setImmediate(() => report(new AuditLogStoreError('EAUDIT_RETENTION_INTEGRITY', conflict, 0)));
  // Retention and holds: each entry's expiry and hold marks, stamped as it goes to the store.
  // A hold waits for the writer (bounded, like the read routes) before it marks stored entries; the writer is made below.
  let flushForHolds: () => Promise<void> = async () => undefined;
  const governance = new Governance(config, store, () => flushForHolds(), newId, reads ? (filter) => reads.filter(filter) : undefined);
  const watched = receipts.watch(store);
  const writer = new Writer(
    keyring ? withDataKeys(watched, () => keyring.persistPending()) : watched,
    config,
    report,
    spool,
    chain,
    {
      stamp: (entry) => governance.stamp(entry),
      // Watch for holds other instances place when this one serves the hold routes (or holds exist).
      start: () => governance.start(config.holdScope !== null),
      stop: () => governance.stop(),
    },
    journal,
  );
  // Off: entries go to the store's writer alone, with nothing added on the request path.
  const delivery = config.deliver ? createDelivery(config.deliver, config, report) : null;
  const push = delivery
    ? (entry: AuditEntry, bytes: number) => {
        writer.push(entry, bytes);
        delivery.push(entry, bytes);
      }
    : (entry: AuditEntry, bytes: number) => writer.push(entry, bytes);
  // Sealed before the writer's push(): the integrity chain hashes the ciphertext, the spool never
  // holds plaintext, and a SIEM receives the sealed form too (a plaintext copy there would outlive an erasure).
  const enqueue = keyring
    ? (entry: AuditEntry, bytes: number) => {
        let sealed: AuditEntry;
        try {
          sealed = keyring.seal(entry);
        } catch (error) {
          report(
            new AuditLogStoreError(
              'EAUDIT_ENCRYPT',
              `encrypting an entry failed (${(error as Error)?.message ?? error}); it was dropped, never stored in plaintext.`,
              1,
              error,
            ),
          );
          return;
        }
        push(sealed, bytes + SEALED_BYTES);
      }
    : push;
  const inferAssociation = store.associationType ? store.associationType.bind(store) : null;

  const sink: EventSink = { config, limits, newId, push: enqueue, fail: report, contextOf: (req) => contextOfRequest(req as Request, sink) };
  const recorder = createRecorder(
    config,
    { config, limits, newId, inferAssociation, fail: report },
    {
      push: sink.push,
      fail: report,
      context: (req, requestId) => recordedContext(req, sink, requestId),
    },
  );
  const extras = config.ui ? [createUiRouter({ basePath: config.basePath })] : [];
  // An export is a custom event of the instance: same identity, sanitizing and transform as record().
  const recordExport = (req: Request, details: { rows: number; format: string; query: Record<string, unknown>; capped: boolean }) => {
    emitEntry(sink, contextOfRequest(req, sink), {
      action: 'Export',
      collectionName: 'auditLog',
      payload: details.query,
      result: { rows: details.rows, format: details.format, capped: details.capped },
    });
  };
  const flushPending = boundedFlush(writer);
  flushForHolds = flushPending;
  // Placing and releasing a hold are recorded like an export: same identity, sanitizing and transform as record().
  const recordGovernance = (req: Request, fields: EventFields) => void emitEntry(sink, contextOfRequest(req, sink), fields);
  const write = async (entries: ReadonlyArray<{ entry: AuditEntry; bytes: number }>): Promise<boolean> => {
    const ids = entries.map(({ entry }) => entry._id);
    receipts.expect(ids);
    try {
      for (const { entry, bytes } of entries) enqueue(entry, bytes);
      await flushPending();
      return receipts.confirmed(ids);
    } finally {
      receipts.release(ids);
    }
  };
  // Erasures: the service is framework-free; the route and audit.erase() both record what it did.
  const erase = async (request: unknown, req: Request | null): Promise<ErasureResult & { entry: string | null }> => {
    if (!keyring) throw new AuditLogConfigError('EAUDIT_OPTION', 'encryption', 'erase() needs the encryption option: auditLog({ encryption: { masterKey } }).');
    const user = erasureUser(request);
    const result = await eraseUser({ keyring, store, flush: () => writer.flush() }, user);
    const entry = emitEntry(sink, req ? contextOfRequest(req, sink) : currentContext(), {
      action: 'Erase',
      collectionName: 'auditLog',
      payload: { subjects: result.subjects },
      result: { entries: result.entries, keys: result.keys },
    });
    return { ...result, entry };
  };
  const router = config.routes
    ? createQueryRouter({
        config,
        store,
        sink,
        fail: report,
        extras,
        flushPending,
        write,
        recordExport,
        reads,
        erase: keyring ? (body, req) => erase(body, req) : undefined,
        governance,
        recordGovernance,
      })
    : null;
  const base = config.basePath;

  function isAuditPath(path: string | undefined): boolean {
    // A bare request object (a router unit test) has no path: it is not ours.
    return typeof path === 'string' && path.startsWith(base) && (path.length === base.length || path.charCodeAt(base.length) === 47) /* '/' */;
  }

  const routes: RequestHandler = function auditLogRoutes(req: Request, res: Response, next: NextFunction) {
    if (router && isAuditPath(req.path)) router(req, res, next);
    else next();
  };

  const middleware: RequestHandler = function auditLogMiddleware(req: Request, res: Response, next: NextFunction) {
    // The audit routes are never recorded themselves; everything else goes to the recorder.
    if (router && isAuditPath(req.path)) router(req, res, next);
    else recorder(req, res, next);
  };

  return attach(
    middleware,
    emitter,
    {
      recorder,
      routes,
      enabled: true,
      store,
      flush: delivery
        ? async (deadlineMs?: number) => {
            await Promise.all([writer.flush(deadlineMs), delivery.flush(deadlineMs)]);
          }
        : (deadlineMs?: number) => writer.flush(deadlineMs),
      // The same promise for every call, as writer.close() gives.
      close: (deadlineMs?: number) =>
        (closing ??= (delivery ? Promise.all([writer.close(deadlineMs), delivery.close(deadlineMs)]) : writer.close(deadlineMs)).then(releaseOwner)),
      stats: (): AuditLogStats => (delivery ? { ...writer.stats(), delivery: delivery.stats() } : writer.stats()),
      erase: async (request: ErasureRequest) => {
        const { entry: _entry, ...result } = await erase(request, null);
        return result;
      },
      rotateMasterKey: async () => (keyring ? keyring.rewrapAll() : { rewrapped: 0, unreadable: 0 }),
    },
    sink,
  );
}

/** Adds to, or skips, what is recorded for this request. */
auditLog.annotate = annotate;
