/**
 * The store seam. A store persists entries and answers store-neutral queries; it knows
 * nothing of HTTP. Every store passes the same contract suite (test/stores/contract.ts).
 */
import type { AssociationType, AuditEntry, FieldName } from '../entry';

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
}

/** True for an insertMany error that says the entries can never be stored: retrying cannot help. */
export function isRejection(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { rejected?: unknown }).rejected === true;
}
