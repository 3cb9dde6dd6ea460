/**
 * Legal holds and the expiry stamped on each entry, framework-free (plain inputs, plain results;
 * the Express router only translates). A hold has a filter in the list route's language and a
 * reason; entries it covers never expire while it is active, including entries written after it
 * was placed: the writer stamps every entry with `stamp()` just before it goes to the store,
 * against an in-memory copy of the active holds. That copy is loaded when the writer starts,
 * changed at once by this instance's own place/release, and refreshed from the store every
 * HOLD_REFRESH_MS (and on each hold route call), so other instances sharing the store learn of a
 * hold within that interval; when they do, they mark again what they wrote meanwhile (marking is
 * idempotent).
 */
import type { AuditEntry } from '../entry';
import { AuditLogQueryError } from '../errors';
import { parseListQuery } from '../query/list-query';
import { compileFilter } from '../stores/match';
import type { AuditFilter, AuditHold, AuditStore, ExpiryOf, HoldMethods } from '../stores/types';
import { storesHolds, storesRetention } from '../stores/types';
import { expiryOf, ruleFilter, type RetentionRule } from './retention';

/** How often an instance reloads the holds other instances may have placed or released. */
export const HOLD_REFRESH_MS = 30_000;
const MAX_REASON = 1000;
/** The list route's parameters that select entries; paging, sorting and projection mean nothing for a hold. */
const NOT_FILTERS = ['$select', '$sort', '$skip', '$page', '$limit', '$count'];

export interface GovernanceSettings {
  retention: readonly RetentionRule[];
  ttlSeconds: number | null;
  defaultLimit: number;
  maxLimit: number;
}

/** The filter a hold's parameters stand for, dates relative to when it was placed (`from=now-7d` stays that week). */
export function holdFilter(parameters: AuditHold['filter'], placedAt: Date, limits: { defaultLimit: number; maxLimit: number }): AuditFilter {
  for (const name of Object.keys(parameters)) {
    if (NOT_FILTERS.includes(name))
      throw new AuditLogQueryError(`filter.${name}`, `${name} does not select entries; a hold's filter takes the list route's filters only.`);
  }
  try {
    return parseListQuery(parameters, limits, placedAt.getTime()).query.filter;
  } catch (error) {
    if (error instanceof AuditLogQueryError) throw new AuditLogQueryError(`filter.${error.parameter}`, error.message);
    throw error;
  }
}

function checkParameters(value: unknown): AuditHold['filter'] {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new AuditLogQueryError('filter', 'filter must be an object of the list route\'s parameters, like { "user": "u1", "from": "2026-01-01" }.');
  }
  const out: AuditHold['filter'] = {};
  for (const [name, item] of Object.entries(value)) {
    const ok = typeof item === 'string' || (Array.isArray(item) && item.length > 0 && item.every((part) => typeof part === 'string'));
    if (!ok)
      throw new AuditLogQueryError(`filter.${name.slice(0, 64)}`, `filter.${name.slice(0, 64)} must be a string or an array of strings, as in a query string.`);
    out[name] = item as string | string[];
  }
  return out;
}

interface ActiveHold {
  id: string;
  matches: ReturnType<typeof compileFilter>;
}

export interface PlacedHold {
  hold: AuditHold;
  /** Entries stored when it was placed that it now covers. */
  held: number;
}

export interface ReleasedHold {
  hold: AuditHold;
  /** Entries no other hold covers, given back their expiry. */
  released: number;
  /** False when it had been released before (nothing changed). */
  changed: boolean;
}

export class Governance {
  private active: ActiveHold[] = [];
  /** Every hold id this instance has seen, and whether it was active then. */
  private readonly seen = new Map<string, boolean>();
  private loaded = false;
  private timer: NodeJS.Timeout | null = null;
  readonly expiryOf: ExpiryOf;

  constructor(
    private readonly settings: GovernanceSettings,
    private readonly store: AuditStore,
    /** Waits until entries stamped before now are in the store (the writer's flush). */
    private readonly settle: () => Promise<void>,
    private readonly newId: () => string,
    /**
     * The filter as stored values answer it: with `encryption`, a hold on `user` must match the
     * blind index of sealed entries (the same translation as the list route's).
     */
    private readonly storedFilter: (filter: AuditFilter) => AuditFilter = (filter) => filter,
  ) {
    this.expiryOf = (entry) => expiryOf(settings.retention, settings.ttlSeconds, entry);
  }

  /** The store's hold methods, or null when it has none. */
  get holdStore(): (AuditStore & HoldMethods) | null {
    return storesHolds(this.store) ? this.store : null;
  }

  /** Sets `expireAt` and `holds` on an entry about to be written. Cheap when no rule, ttl or hold is in force. */
  stamp(entry: AuditEntry): void {
    let holds: string[] | null = null;
    for (const hold of this.active) if (hold.matches(entry)) (holds ??= []).push(hold.id);
    if (holds !== null) {
      entry.expireAt = null;
      entry.holds = holds;
      return;
    }
    // `delete` only when there is something to delete: it turns the object into a slow dictionary.
    if ('holds' in entry) delete entry.holds;
    const expireAt = this.expiryOf(entry);
    if (expireAt !== undefined) entry.expireAt = expireAt;
    else if ('expireAt' in entry) delete entry.expireAt;
  }

  /**
   * Loads the holds (the writer calls it once the store is up, before the first write), then
   * keeps them fresh every HOLD_REFRESH_MS while `watch` is true or any hold exists.
   */
  async start(watch: boolean): Promise<void> {
    await this.refresh();
    await this.applyPolicy();
    if (this.timer || !(watch || this.seen.size > 0)) return;
    this.timer = setInterval(() => void this.refresh().catch(() => undefined), HOLD_REFRESH_MS);
    this.timer.unref();
  }

  /**
   * A `ttl` or rules other than the ones last applied to this store reach the entries already
   * stored, as 0.1's TTL index did on a changed ttl: each rule's entries (and the default's) that
   * no hold covers get `date + ` its ttl. Once per change, before the first write; the policy
   * applied is stored with the entries.
   */
  private async applyPolicy(): Promise<void> {
    if (!storesRetention(this.store)) return;
    const { retention, ttlSeconds } = this.settings;
    const policy = JSON.stringify({ ttlSeconds, rules: retention });
    if ((await this.store.retentionPolicy()) === policy) return;
    for (let index = 0; index <= retention.length; index++) {
      const rule = retention[index];
      // The default with no ttl: expireAt absent, so a ttl set later applies.
      await this.store.restamp(ruleFilter(retention, index), rule ? rule.ttlSeconds : (ttlSeconds ?? undefined));
    }
    await this.store.setRetentionPolicy(policy);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /**
   * Reloads the holds from the store. A hold first seen active here (placed by another instance)
   * is applied again to what is stored, after this instance's pending writes: entries it wrote
   * before it knew are marked. One first seen released is released again (idempotent).
   */
  async refresh(): Promise<void> {
    const store = this.holdStore;
    if (!store) return;
    const holds = await store.findHolds();
    const first = !this.loaded;
    const placed: AuditHold[] = [];
    const released: AuditHold[] = [];
    for (const hold of holds) {
      const active = hold.releasedAt === null;
      const before = this.seen.get(hold._id);
      if (before === undefined && active) placed.push(hold);
      if (before === true && !active) released.push(hold);
      this.seen.set(hold._id, active);
    }
    this.active = holds.filter((hold) => hold.releasedAt === null).map((hold) => this.compile(hold));
    this.loaded = true;
    if (first || placed.length + released.length === 0) return;
    await this.settle();
    for (const hold of placed) await store.markHeld(this.filterOf(hold), hold._id);
    for (const hold of released) await store.unmarkHeld(hold._id, this.expiryOf);
  }

  private filterOf(hold: Pick<AuditHold, 'filter' | 'placedAt'>): AuditFilter {
    return this.storedFilter(holdFilter(hold.filter, hold.placedAt, this.settings));
  }

  private compile(hold: AuditHold): ActiveHold {
    return { id: hold._id, matches: compileFilter(this.filterOf(hold)) };
  }

  /** Every hold, active and released, oldest first (refreshed from the store first). */
  async list(): Promise<AuditHold[]> {
    const store = this.requireStore();
    await this.refresh();
    return store.findHolds();
  }

  /** Validates and places a hold: stored, in force for new entries at once, then applied to what is stored. */
  async place(input: { filter?: unknown; reason?: unknown }, placedBy: string | null, now = new Date()): Promise<PlacedHold> {
    const store = this.requireStore();
    const { reason } = input;
    if (typeof reason !== 'string' || reason.trim() === '' || reason.length > MAX_REASON) {
      throw new AuditLogQueryError(
        'reason',
        `reason must be a non-empty string of up to ${MAX_REASON} characters saying why the entries are held (a case number, say).`,
      );
    }
    const parameters = checkParameters(input.filter);
    const filter = this.filterOf({ filter: parameters, placedAt: now });
    const hold: AuditHold = { _id: this.newId(), reason, filter: parameters, placedAt: now, placedBy, releasedAt: null, releasedBy: null };
    await store.insertHold(hold);
    this.seen.set(hold._id, true);
    this.active = [...this.active, this.compile(hold)];
    // Entries stamped before the hold was in force are written first, then marked with the rest.
    await this.settle();
    const held = await store.markHeld(filter, hold._id);
    return { hold, held };
  }

  /** Releases a hold: null when there is none with that id. */
  async release(id: string, releasedBy: string | null, now = new Date()): Promise<ReleasedHold | null> {
    const store = this.requireStore();
    const outcome = await store.releaseHold(id, now, releasedBy);
    if (!outcome) return null;
    const { hold, changed } = outcome;
    this.seen.set(id, false);
    this.active = this.active.filter((active) => active.id !== id);
    await this.settle();
    const released = await store.unmarkHeld(id, this.expiryOf);
    return { hold, released, changed };
  }

  private requireStore(): AuditStore & HoldMethods {
    const store = this.holdStore;
    if (!store)
      throw Object.assign(new Error('this store does not implement legal holds (insertHold, findHolds, releaseHold, markHeld, unmarkHeld)'), {
        code: 'EAUDIT_NO_HOLDS',
      });
    return store;
  }
}
