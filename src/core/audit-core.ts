/**
 * `createAuditCore()`: everything an audit instance is that no web framework is part of. It
 * parses the options once and wires the store, the writer (spool, owner lock, journal), the
 * integrity chain, encryption, retention and holds, delivery and the events sink. An adapter
 * (express/ today) adds what its framework needs: a recorder that turns responses into entries,
 * the query routes, and the handle the app keeps, whose flush/close/stats/erase are the core's.
 */
import { EventEmitter } from 'events';
import { ObjectId } from 'bson';
import { secretKeyMatcher } from '../capture/redact';
import type { SanitizeLimits } from '../capture/sanitize';
import type { AssociationType, AuditEntry } from '../entry';
import { AuditLogConfigError, AuditLogStoreError } from '../errors';
import { currentContext, type AuditContext, type EventSink } from '../events/context';
import { emitEntry, type EventFields } from '../events/record';
import { parseOptions, type AuditCoreOptions, type Config } from '../options';
import { FileSpool } from '../pipeline/spool';
import { SpoolOwner } from '../pipeline/spool-owner';
import { Journal } from '../pipeline/journal';
import { WriteReceipts } from '../pipeline/write-receipts';
import { Writer, type AuditStats } from '../pipeline/writer';
import type { AuditStore } from '../stores/types';
import { defaultStore } from '../stores/default-store';
import { Chain } from '../integrity/chain';
import { createDelivery } from '../delivery/delivery';
import { Keyring } from '../encryption/keyring';
import { EncryptedReads } from '../encryption/reads';
import { storesDataKeys, withDataKeys } from '../encryption/store';
import { eraseUser, erasureUser, type ErasureRequest, type ErasureResult } from '../encryption/erasure';
import { Governance } from '../governance/holds';
import { integrityConflict } from '../governance/retention';
import { boundedFlush } from './bounded-flush';
import { reporter } from './reporter';

/** `audit.stats()`: the store's writer, and with `deliver` the delivery's (`written` = acknowledged by the endpoint). */
export interface AuditLogStats extends AuditStats {
  delivery?: AuditStats;
}

/** What the adapter lends the core: the audit context of one of its framework's requests. */
export interface CoreAdapter {
  contextOf(req: unknown, sink: EventSink): AuditContext;
}

/** What every instance has, enabled or not: the lifecycle the app's handle exposes. */
interface CoreLifecycle {
  readonly config: Config;
  /** The instance's 'error' event. */
  readonly events: EventEmitter;
  /** Writes everything queued now; resolves when written, when the store fails for now, or after `deadlineMs`. */
  flush(deadlineMs?: number): Promise<void>;
  /** Flushes what it can before the deadline, spools or counts the rest, closes the store. The same promise for every call. */
  close(deadlineMs?: number): Promise<void>;
  stats(): AuditLogStats;
  /**
   * Erases a user's data keys and records an `Erase` entry in the context `contextOf` gives once
   * the erasure is done (none: the current one, if any).
   */
  erase(request: ErasureRequest | unknown, contextOf?: (() => AuditContext) | null): Promise<ErasureResult & { entry: string | null }>;
  rotateMasterKey(): Promise<{ rewrapped: number; unreadable: number }>;
}

/** `enabled: false` or AUDIT_LOG_ENABLED=false: no store opened, nothing recorded. */
export interface DisabledAuditCore extends CoreLifecycle {
  readonly enabled: false;
  readonly store: null;
  readonly sink: null;
}

export interface EnabledAuditCore extends CoreLifecycle {
  readonly enabled: true;
  readonly store: AuditStore;
  /** What events and entry builders use: settings, ids, the queue, failures, request contexts. */
  readonly sink: EventSink;
  readonly limits: SanitizeLimits;
  /** Reports a failure through the 'error' event; never throws. */
  report(error: unknown): void;
  newId(): string;
  /** The store's association inference (mongoose models), when it has one. */
  readonly inferAssociation: ((collection: string, child: string) => AssociationType | null) | null;
  /** The query routes' flush before a read: bounded, see bounded-flush.ts. */
  flushPending(): Promise<void>;
  /** Queues built entries and flushes; true when the store confirmed every one in time (manual entries answer 201 then). */
  write(entries: ReadonlyArray<{ entry: AuditEntry; bytes: number }>): Promise<boolean>;
  /** Records an entry of the instance (an export, a hold) in `context`: same identity, sanitizing and transform as record(). */
  emit(context: AuditContext | undefined, fields: EventFields): string | null;
  /** With `encryption`: user filters on the blind index, and entries opened before they are shown. */
  readonly reads: EncryptedReads | null;
  /** True with `encryption`: erase() works. */
  readonly erasable: boolean;
  readonly governance: Governance;
}

export type AuditCore = EnabledAuditCore | DisabledAuditCore;

const ZERO_STATS: AuditStats = { recorded: 0, written: 0, failed: 0, retried: 0, spooled: 0, replayed: 0, dropped: 0, queued: 0, queuedBytes: 0 };

/** What sealing adds to an entry's stored size (the blind index, a key id, a nonce and a tag, base64). */
const SEALED_BYTES = 160;

function newId(): string {
  return new ObjectId().toHexString();
}

function disabledCore(config: Config, events: EventEmitter): DisabledAuditCore {
  return {
    enabled: false,
    config,
    events,
    store: null,
    sink: null,
    flush: async () => undefined,
    close: async () => undefined,
    stats: () => ({ ...ZERO_STATS }),
    erase: async () => ({ entries: 0, keys: 0, subjects: [], entry: null }),
    rotateMasterKey: async () => ({ rewrapped: 0, unreadable: 0 }),
  };
}

/** Creates the framework-free part of an instance. Throws AuditLogConfigError at once when an option is wrong. */
export function createAuditCore<Req = unknown>(options: AuditCoreOptions<Req> | undefined, adapter: CoreAdapter): AuditCore {
  const config = parseOptions(options);
  const events = new EventEmitter();
  if (!config.enabled) return disabledCore(config, events);

  const report = reporter(events, config.logger);
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

  const sink: EventSink = { config, limits, newId, push: enqueue, fail: report, contextOf: (req) => adapter.contextOf(req, sink) };
  const flushPending = boundedFlush(writer);
  flushForHolds = flushPending;
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
  const erase = async (request: unknown, contextOf?: (() => AuditContext) | null): Promise<ErasureResult & { entry: string | null }> => {
    if (!keyring) throw new AuditLogConfigError('EAUDIT_OPTION', 'encryption', 'erase() needs the encryption option: auditLog({ encryption: { masterKey } }).');
    const user = erasureUser(request);
    const result = await eraseUser({ keyring, store, flush: () => writer.flush() }, user);
    const entry = emitEntry(sink, contextOf ? contextOf() : currentContext(), {
      action: 'Erase',
      collectionName: 'auditLog',
      payload: { subjects: result.subjects },
      result: { entries: result.entries, keys: result.keys },
    });
    return { ...result, entry };
  };

  return {
    enabled: true,
    config,
    events,
    store,
    sink,
    limits,
    report,
    newId,
    inferAssociation: store.associationType ? store.associationType.bind(store) : null,
    flushPending,
    write,
    emit: (context, fields) => emitEntry(sink, context, fields),
    reads,
    erasable: keyring !== null,
    governance,
    erase,
    flush: delivery
      ? async (deadlineMs?: number) => {
          await Promise.all([writer.flush(deadlineMs), delivery.flush(deadlineMs)]);
        }
      : (deadlineMs?: number) => writer.flush(deadlineMs),
    // The same promise for every call, as writer.close() gives.
    close: (deadlineMs?: number) =>
      (closing ??= (delivery ? Promise.all([writer.close(deadlineMs), delivery.close(deadlineMs)]) : writer.close(deadlineMs)).then(releaseOwner)),
    stats: (): AuditLogStats => (delivery ? { ...writer.stats(), delivery: delivery.stats() } : writer.stats()),
    rotateMasterKey: async () => (keyring ? keyring.rewrapAll() : { rewrapped: 0, unreadable: 0 }),
  };
}
