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

/** What the stats route asks a store: counts of the entries matching `filter` (its date range included). */
export interface StatsQuery {
  filter: AuditFilter;
  /** Bucket width in ms: an entry counts in the bucket starting at `date - date % intervalMs` (UTC, since 1970). */
  intervalMs: number;
  /** Also count per value of this field; null: buckets only. */
  groupBy: FieldName | null;
  /** The most groups to return (the most frequent, ties by value). */
  top: number;
}

export interface StatsCounts {
  count: number;
  /** Of them, entries with `isError: true`. */
  errors: number;
}

export interface StoreStats {
  /** Non-empty buckets, oldest first; `start` in ms since 1970. */
  buckets: Array<{ start: number } & StatsCounts>;
  /** The `top` most frequent values of `groupBy` (null: entries without it); empty without groupBy. */
  groups: Array<{ key: string | number | boolean | null } & StatsCounts>;
  /** How many distinct values `groupBy` has in all (0 without groupBy). */
  groupsTotal: number;
}

export interface StoreInitConfig {
  /**
   * The default retention, in seconds; null means none. Entries expire at their own `expireAt`
   * (stamped by the writer); entries stored without one (written by 0.1, or while no `ttl` was
   * set) get `date + ttlSeconds` at init.
   */
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
  /**
   * Optional: counts per time bucket and per group for the stats route, computed where the
   * entries are (an aggregation on MongoDB, SQL on the file store). Without it the stats route
   * answers 501.
   */
  stats?(query: StatsQuery): Promise<StoreStats>;
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
  /** Optional, with the other HoldMethods (see `storesHolds`): legal holds. Without them the hold routes answer 501. */
  insertHold?: HoldMethods['insertHold'];
  findHolds?: HoldMethods['findHolds'];
  releaseHold?: HoldMethods['releaseHold'];
  markHeld?: HoldMethods['markHeld'];
  unmarkHeld?: HoldMethods['unmarkHeld'];
  /** Optional, with the other RetentionMethods (see `storesRetention`): a changed ttl or rule applied to stored entries at start. */
  retentionPolicy?: RetentionMethods['retentionPolicy'];
  setRetentionPolicy?: RetentionMethods['setRetentionPolicy'];
  restamp?: RetentionMethods['restamp'];
}

/** A legal hold (src/governance/holds.ts): stored apart from the entries, never expired, kept after release as a record. */
export interface AuditHold {
  /** 24-hex id. */
  _id: string;
  reason: string;
  /** The list route's filter parameters it was placed with, as given (`{ user: 'u1', from: '2026-01-01' }`). */
  filter: Record<string, string | string[]>;
  placedAt: Date;
  placedBy: string | null;
  releasedAt: Date | null;
  releasedBy: string | null;
}

/** What a release needs of an entry to give it its expiry back. */
export type ExpiryOf = (entry: Pick<AuditEntry, 'date' | 'action' | 'collectionName'>) => Date | null | undefined;

/** The optional hold methods; see `storesHolds`. */
export interface HoldMethods {
  /** Stores a new hold (idempotent on `_id`). */
  insertHold(hold: AuditHold): Promise<void>;
  /** Every hold, active and released, oldest first. */
  findHolds(): Promise<AuditHold[]>;
  /**
   * Marks the hold released (only when it is active). Returns the hold as stored now and whether
   * this call released it (false: released before), or null when there is none with that id.
   */
  releaseHold(id: string, releasedAt: Date, releasedBy: string | null): Promise<{ hold: AuditHold; changed: boolean } | null>;
  /** Entries matching the filter (and not yet expired) lose their expiry and get `holdId` in `holds`. Idempotent. Returns how many matched. */
  markHeld(filter: AuditFilter, holdId: string): Promise<number>;
  /**
   * Removes `holdId` from every entry's `holds`; an entry no other hold covers loses `holds` and gets
   * `expireAt` from `expiryOf` (undefined: the field is removed). Idempotent. Returns how many were released.
   */
  unmarkHeld(holdId: string, expiryOf: ExpiryOf): Promise<number>;
}

/** True when the store implements the optional hold methods (all three shipped stores do). */
export function storesHolds(store: AuditStore): store is AuditStore & HoldMethods {
  const s = store as Partial<HoldMethods>;
  return (
    typeof s.insertHold === 'function' &&
    typeof s.findHolds === 'function' &&
    typeof s.releaseHold === 'function' &&
    typeof s.markHeld === 'function' &&
    typeof s.unmarkHeld === 'function'
  );
}

/** The optional methods that let a changed retention policy reach stored entries; see `storesRetention`. */
export interface RetentionMethods {
  /** The policy last stored by `setRetentionPolicy` (an opaque string), or null. */
  retentionPolicy(): Promise<string | null>;
  setRetentionPolicy(policy: string): Promise<void>;
  /**
   * Entries matching the filter that no hold covers get a new expiry: `date + ttlSeconds`, null
   * (kept: `expireAt` null), or undefined (`expireAt` removed). Returns how many matched.
   */
  restamp(filter: AuditFilter, ttlSeconds: number | null | undefined): Promise<number>;
}

/** True when the store implements the optional retention methods (all three shipped stores do). */
export function storesRetention(store: AuditStore): store is AuditStore & RetentionMethods {
  const s = store as Partial<RetentionMethods>;
  return typeof s.retentionPolicy === 'function' && typeof s.setRetentionPolicy === 'function' && typeof s.restamp === 'function';
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
