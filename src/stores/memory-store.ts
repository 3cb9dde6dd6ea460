/**
 * `memoryStore()`: entries in an array, for tests, benchmarks and single-process demos, the
 * newest `maxEntries` kept (10,000 unless told: the heap is the limit, and the garbage
 * collector's cost grows with what it holds). It is
 * the store closest to the hot path, so inserts do almost nothing: no indexes, no copy (the
 * writer hands over entries it built and never touches again). Reads pay instead: they scan,
 * match with MongoDB's semantics (./match, compiled once per query), and return copies, so a
 * caller cannot change what is stored.
 */
import type { AuditEntry } from '../entry';
import { AuditLogConfigError, show } from '../errors';
import { compareValues } from './compare';
import type { AuditCheckpoint } from '../integrity/checkpoint';
import type { DataKeyQuery, DataKeyRecord } from '../encryption/data-key';
import { compileFilter } from './match';
import type { AuditFilter, AuditHold, AuditQuery, AuditStore, CheckpointQuery, ExpiryOf, StatsQuery, StoreInitConfig, StoreStats } from './types';

export interface MemoryStoreOptions {
  /** How often expired entries are deleted, in ms. Reads never return them in between. Defaults to 60000. */
  sweepIntervalMs?: number;
  /** The most entries kept; past it the oldest are evicted, like a TTL would. Defaults to 10000: the store is for tests and small runs (fileStore keeps millions on disk). */
  maxEntries?: number;
}

/** A deep copy of stored JSON (plus Dates); structuredClone would make Dates of another realm under jest's vm. */
function copyValue(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date) return new Date(value.getTime());
  if (Array.isArray(value)) return value.map(copyValue);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    Object.defineProperty(out, key, { value: copyValue((value as Record<string, unknown>)[key]), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

function copy(entry: Partial<AuditEntry>): Partial<AuditEntry> {
  return copyValue(entry) as Partial<AuditEntry>;
}

/** The first index whose `_id` sorts after `id` (binary search over `_id`-ordered checkpoints). */
function indexAfter(checkpoints: readonly AuditCheckpoint[], id: string): number {
  let low = 0;
  let high = checkpoints.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (checkpoints[mid]!._id <= id) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** False once the entry's own expiry has passed (absent or null: it does not expire). */
function live(entry: AuditEntry, now: number): boolean {
  const expireAt = entry.expireAt;
  return !(expireAt instanceof Date) || expireAt.getTime() > now;
}

class MemoryAuditStore implements AuditStore {
  private entries: AuditEntry[] = [];
  /** Legal holds by id, apart from the entries: never expired, never evicted. */
  private readonly holds = new Map<string, AuditHold>();
  private policy: string | null = null;
  /** Integrity checkpoints in `_id` order; neither the TTL nor maxEntries removes them. */
  private checkpoints: AuditCheckpoint[] = [];
  private readonly ids = new Set<string>();
  /** Wrapped data keys of the `encryption` option, by `_id`; the TTL does not remove them. */
  private readonly dataKeys = new Map<string, DataKeyRecord>();
  private ttlSeconds: number | null = null;
  private sweeper: NodeJS.Timeout | null = null;
  /** Entries evicted because maxEntries was reached. */
  evicted = 0;

  constructor(
    private readonly sweepIntervalMs: number,
    private readonly maxEntries: number,
  ) {}

  async init(config: StoreInitConfig): Promise<void> {
    this.ttlSeconds = config.ttlSeconds;
    // Entries stored without an expiry follow the default ttl in force (see StoreInitConfig).
    if (this.ttlSeconds !== null) {
      for (const entry of this.entries) if (!('expireAt' in entry)) entry.expireAt = new Date(entry.date.getTime() + this.ttlSeconds * 1000);
    }
    // Retention rules can give an expiry whatever the ttl: the sweep always runs (it is one pass over the array).
    if (this.sweepIntervalMs > 0 && !this.sweeper) {
      this.sweeper = setInterval(() => this.sweep(), this.sweepIntervalMs);
      this.sweeper.unref();
    }
  }

  /** Deletes expired entries now; returns how many. */
  sweep(): number {
    const now = Date.now();
    const before = this.entries.length;
    this.entries = this.entries.filter((entry) => live(entry, now) || !this.ids.delete(entry._id));
    return before - this.entries.length;
  }

  private matching(filter: AuditFilter): AuditEntry[] {
    const matches = Object.keys(filter).length === 0 ? null : compileFilter(filter);
    const now = Date.now();
    return this.entries.filter((entry) => live(entry, now) && (matches === null || matches(entry)));
  }

  async insertMany(entries: AuditEntry[]): Promise<void> {
    const ttl = this.ttlSeconds;
    for (const entry of entries) {
      if (this.ids.has(entry._id)) continue; // a retried batch: already written
      this.ids.add(entry._id);
      if (ttl !== null && !('expireAt' in entry)) entry.expireAt = new Date(entry.date.getTime() + ttl * 1000);
      this.entries.push(entry);
    }
    // Evict in chunks (10% at a time), not one by one: shifting a 100k array per batch costs more than the insert.
    if (this.entries.length > this.maxEntries) {
      const excess = this.entries.length - this.maxEntries + Math.floor(this.maxEntries / 10);
      for (const old of this.entries.slice(0, excess)) this.ids.delete(old._id);
      this.entries = this.entries.slice(excess);
      this.evicted += excess;
    }
  }

  async find(query: AuditQuery): Promise<{ docs: Partial<AuditEntry>[]; total: number }> {
    const found = this.matching(query.filter);
    const keys: Array<[string, 1 | -1]> = [...query.sort];
    if (!keys.some(([field]) => field === '_id')) keys.push(['_id', query.sort[0]?.[1] ?? -1]);
    found.sort((a, b) => {
      for (const [field, direction] of keys) {
        const order = compareValues(a[field as keyof AuditEntry], b[field as keyof AuditEntry]);
        if (order !== 0) return order * direction;
      }
      return 0;
    });
    const page = found.slice(query.skip, query.skip + query.limit);
    const select = query.select;
    const docs = page.map((entry) => copy(select ? Object.fromEntries(select.map((field) => [field, entry[field]])) : entry));
    return { docs, total: found.length };
  }

  async count(filter: AuditFilter): Promise<number> {
    return this.matching(filter).length;
  }

  async stats(query: StatsQuery): Promise<StoreStats> {
    const buckets = new Map<number, { start: number; count: number; errors: number }>();
    const groups = new Map<unknown, { key: string | number | boolean | null; count: number; errors: number }>();
    for (const entry of this.matching(query.filter)) {
      const time = entry.date.getTime();
      const start = time - (time % query.intervalMs);
      const error = entry.isError === true ? 1 : 0;
      const bucket = buckets.get(start) ?? buckets.set(start, { start, count: 0, errors: 0 }).get(start)!;
      bucket.count += 1;
      bucket.errors += error;
      if (query.groupBy) {
        // Missing and null are one group, as MongoDB's $group has them.
        const key = (entry[query.groupBy] ?? null) as string | number | boolean | null;
        const group = groups.get(key) ?? groups.set(key, { key, count: 0, errors: 0 }).get(key)!;
        group.count += 1;
        group.errors += error;
      }
    }
    const ranked = [...groups.values()].sort((a, b) => b.count - a.count || compareValues(a.key, b.key));
    return { buckets: [...buckets.values()].sort((a, b) => a.start - b.start), groups: ranked.slice(0, query.top), groupsTotal: groups.size };
  }

  async findById(id: string): Promise<AuditEntry | null> {
    const found = this.matching({ _id: id })[0];
    return found ? (copy(found) as AuditEntry) : null;
  }

  async insertDataKeys(keys: DataKeyRecord[]): Promise<void> {
    for (const key of keys) if (!this.dataKeys.has(key._id)) this.dataKeys.set(key._id, { ...key });
  }

  async findDataKeys(query: DataKeyQuery): Promise<DataKeyRecord[]> {
    if ('ids' in query) return query.ids.flatMap((id) => (this.dataKeys.has(id) ? [{ ...this.dataKeys.get(id)! }] : []));
    const after = query.after;
    return [...this.dataKeys.values()]
      .filter((key) => after === null || key._id > after)
      .sort((a, b) => (a._id < b._id ? -1 : 1))
      .slice(0, query.limit)
      .map((key) => ({ ...key }));
  }

  async updateDataKeys(keys: DataKeyRecord[]): Promise<void> {
    for (const key of keys) if (this.dataKeys.has(key._id)) this.dataKeys.set(key._id, { ...key });
  }

  async deleteDataKeys(subjects: string[]): Promise<number> {
    const doomed = new Set(subjects);
    let deleted = 0;
    for (const [id, key] of this.dataKeys) if (doomed.has(key.subject) && this.dataKeys.delete(id)) deleted++;
    return deleted;
  }

  async insertCheckpoints(checkpoints: AuditCheckpoint[]): Promise<void> {
    for (const checkpoint of checkpoints) {
      const at = indexAfter(this.checkpoints, checkpoint._id);
      if (this.checkpoints[at - 1]?._id === checkpoint._id) continue; // a retry: already written
      this.checkpoints.splice(at, 0, copyValue(checkpoint) as AuditCheckpoint);
    }
  }

  async findCheckpoints(query: CheckpointQuery): Promise<AuditCheckpoint[]> {
    const start = query.after === null ? 0 : indexAfter(this.checkpoints, query.after);
    return this.checkpoints.slice(start, start + query.limit).map((checkpoint) => copyValue(checkpoint) as AuditCheckpoint);
  }

  async latestCheckpoint(): Promise<AuditCheckpoint | null> {
    let latest: AuditCheckpoint | null = null;
    for (const checkpoint of this.checkpoints) {
      if (!latest || checkpoint.at.getTime() >= latest.at.getTime()) latest = checkpoint;
    }
    return latest ? (copyValue(latest) as AuditCheckpoint) : null;
  }

  async insertHold(hold: AuditHold): Promise<void> {
    if (!this.holds.has(hold._id)) this.holds.set(hold._id, copyValue(hold) as AuditHold);
  }

  async findHolds(): Promise<AuditHold[]> {
    return [...this.holds.values()].map((hold) => copyValue(hold) as AuditHold);
  }

  async releaseHold(id: string, releasedAt: Date, releasedBy: string | null): Promise<{ hold: AuditHold; changed: boolean } | null> {
    const hold = this.holds.get(id);
    if (!hold) return null;
    const changed = hold.releasedAt === null;
    if (changed) Object.assign(hold, { releasedAt: new Date(releasedAt.getTime()), releasedBy });
    return { hold: copyValue(hold) as AuditHold, changed };
  }

  async markHeld(filter: AuditFilter, holdId: string): Promise<number> {
    const found = this.matching(filter);
    for (const entry of found) {
      entry.expireAt = null;
      if (!entry.holds?.includes(holdId)) entry.holds = [...(entry.holds ?? []), holdId];
    }
    return found.length;
  }

  async unmarkHeld(holdId: string, expiryOf: ExpiryOf): Promise<number> {
    let released = 0;
    for (const entry of this.entries) {
      if (!entry.holds?.includes(holdId)) continue;
      const rest = entry.holds.filter((id) => id !== holdId);
      if (rest.length > 0) {
        entry.holds = rest;
        continue;
      }
      delete entry.holds;
      const expireAt = expiryOf(entry);
      if (expireAt === undefined) delete entry.expireAt;
      else entry.expireAt = expireAt;
      released += 1;
    }
    return released;
  }

  async retentionPolicy(): Promise<string | null> {
    return this.policy;
  }

  async setRetentionPolicy(policy: string): Promise<void> {
    this.policy = policy;
  }

  async restamp(filter: AuditFilter, ttlSeconds: number | null | undefined): Promise<number> {
    const found = this.matching(filter).filter((entry) => entry.holds === undefined);
    for (const entry of found) {
      if (ttlSeconds === undefined) delete entry.expireAt;
      else entry.expireAt = ttlSeconds === null ? null : new Date(entry.date.getTime() + ttlSeconds * 1000);
    }
    return found.length;
  }

  async close(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = null;
  }
}

/** Entries kept in memory: for tests, benchmarks and demos. Lost when the process ends. */
export function memoryStore(options: MemoryStoreOptions = {}): AuditStore {
  const sweep = options.sweepIntervalMs ?? 60_000;
  if (typeof sweep !== 'number' || !Number.isInteger(sweep) || sweep < 0) {
    throw new AuditLogConfigError(
      'EAUDIT_OPTION',
      'sweepIntervalMs',
      `sweepIntervalMs must be a whole number of milliseconds (0 or more); got ${show(sweep)}.`,
    );
  }
  const maxEntries = options.maxEntries ?? 10_000;
  if (typeof maxEntries !== 'number' || !Number.isInteger(maxEntries) || maxEntries < 10) {
    throw new AuditLogConfigError('EAUDIT_OPTION', 'maxEntries', `maxEntries must be a whole number of at least 10; got ${show(maxEntries)}.`);
  }
  return new MemoryAuditStore(sweep, maxEntries);
}
