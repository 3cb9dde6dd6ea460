/**
 * The store seam. A store persists entries and answers store-neutral queries; it knows
 * nothing of HTTP. Every store passes the same contract suite (test/stores/contract.ts).
 */
import type { AssociationType, AuditEntry, FieldName } from '../entry';
import type { AuditCheckpoint } from '../integrity/checkpoint';
import type { DataKeyQuery, DataKeyRecord } from '../encryption/data-key';

/**
 * A MongoDB-style filter restricted to what query/ allows: field equality, `$in`, `$nin`,
 * `$eq`, `$ne`, `$gt`, `$gte`, `$lt`, `$lte`, `$exists`, `$regex` (always built from an escaped
 * literal, never from client text), `$and`, `$or`, `$nor`, `$not`, `$elemMatch`, `$size`,
 * `$all`. Values are already coerced: dates are Date objects, numbers are numbers.
 */
export type AuditFilter = Record<string, unknown>;

export interface AuditQuery {
  filter: AuditFilter;
  /** Ordered sort keys; the stores add `_id` as a final tie-breaker so paging is stable. */
  sort: Array<[FieldName, 1 | -1]>;
  skip: number;
  limit: number;
  /** Fields to return (`_id` always included); null means all. */
  select: FieldName[] | null;
}

export interface StoreInitConfig {
  /** Seconds after `date` when an entry expires; null means entries never expire. */
  ttlSeconds: number | null;
  /** Reports a problem that does not stop writes (an index that could not be created, say). */
  warn?: (code: string, message: string) => void;
  /** True when the `integrity` option is on: create what chain reads need (an index on chain and seq). */
  integrity?: boolean;
  /** True when the `getTenant` option is on: create an index on tenant and date (every tenant-restricted read filters on it). */
  tenants?: boolean;
  /** True when the `encryption` option is on: create what user filters and erasures need (indexes on the blind index). */
  encryption?: boolean;
}

/** A page of checkpoints in `_id` order (chain, then seq), after `after` (an `_id`, exclusive). */
export interface CheckpointQuery {
  after: string | null;
  limit: number;
}

export interface AuditStore {
  /** Create the collection and indexes, and reconcile the TTL. Called once, before any write. */
  init(config: StoreInitConfig): Promise<void>;
  /**
   * Insert entries whose `_id`s are fixed by the caller. Must be idempotent for a retried
   * batch: an entry whose `_id` already exists counts as written, not as an error. When the
   * entries themselves can never be stored (too large, not encodable), as opposed to the store
   * being unavailable, throw an error with `rejected: true` (see `isRejection`): the writer then
   * finds and drops the offending entries instead of retrying them forever.
   */
  insertMany(entries: AuditEntry[]): Promise<void>;
  /** The page of entries the query asks for, and how many match in all. */
  find(query: AuditQuery): Promise<{ docs: Partial<AuditEntry>[]; total: number }>;
  /** Only the count, for `$count=true`. */
  count(filter: AuditFilter): Promise<number>;
  findById(id: string): Promise<AuditEntry | null>;
  /** Release what the store opened. Never closes a connection the caller passed in. */
  close(): Promise<void>;
  /**
   * Optional: the association type of an `owner.child` pair the `associations` option does not
   * name, inferred from the store's own schema knowledge (the MongoDB store reads mongoose models).
   */
  associationType?(owner: string, child: string): AssociationType | null;
  /**
   * Optional, with `findCheckpoints` and `latestCheckpoint`: integrity checkpoints, kept apart
   * from the entries and never expired by the TTL. Idempotent like `insertMany`: a checkpoint
   * whose `_id` is already stored counts as written. Without these three, entries are still
   * chained, and verification says checkpoints are unsupported by this store.
   */
  insertCheckpoints?(checkpoints: AuditCheckpoint[]): Promise<void>;
  /** Checkpoints in `_id` order after `query.after`, at most `query.limit`; dates as Dates. */
  findCheckpoints?(query: CheckpointQuery): Promise<AuditCheckpoint[]>;
  /** The checkpoint with the newest `at` (ties: the greatest `_id`), or null when there is none. */
  latestCheckpoint?(): Promise<AuditCheckpoint | null>;
  /**
   * Optional, with `findDataKeys`, `updateDataKeys` and `deleteDataKeys`: the wrapped data keys of
   * the `encryption` option (src/encryption), kept apart from the entries and never expired by the
   * TTL. Idempotent like `insertMany`: a key whose `_id` is already stored counts as written. The
   * `encryption` option needs all four (checked at start).
   */
  insertDataKeys?(keys: DataKeyRecord[]): Promise<void>;
  /** The keys with these ids (any order, missing ones left out), or a page in `_id` order; dates as Dates. */
  findDataKeys?(query: DataKeyQuery): Promise<DataKeyRecord[]>;
  /** Replaces `subject`, `wrapped` and `masterKeyId` of keys still stored (a key rotation); never re-creates a deleted key. */
  updateDataKeys?(keys: DataKeyRecord[]): Promise<void>;
  /** Deletes every key of these subjects (blind indexes): an erasure. Resolves to how many were deleted. */
  deleteDataKeys?(subjects: string[]): Promise<number>;
}

/** What the writer needs of where it writes: a store, or a delivery endpoint (which cannot be read). */
export type WriteTarget = Pick<AuditStore, 'init' | 'insertMany' | 'close' | 'insertCheckpoints' | 'findCheckpoints' | 'latestCheckpoint'>;

/** True when the store implements the three optional checkpoint methods. */
export function storesCheckpoints<T extends WriteTarget>(
  store: T,
): store is T & Required<Pick<AuditStore, 'insertCheckpoints' | 'findCheckpoints' | 'latestCheckpoint'>> {
  return typeof store.insertCheckpoints === 'function' && typeof store.findCheckpoints === 'function' && typeof store.latestCheckpoint === 'function';
}

/** True for an insertMany error that says the entries can never be stored: retrying cannot help. */
export function isRejection(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { rejected?: unknown }).rejected === true;
}
