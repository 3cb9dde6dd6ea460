/**
 * One writer's hash chain, and the checkpoints that cover what it stored. The writer numbers
 * each entry as it is pushed (before it is queued, spooled or retried, so every copy of it
 * carries the same chain fields), and reports what the store confirmed and what it dropped; the
 * chain says when a checkpoint is due and builds it, signed when there is a key.
 *
 * Spans are kept per chain: entries of an earlier process's chain replayed from the spool are
 * checkpointed too, so a replay leaves that chain covered, not cut short.
 */
import { ObjectId } from 'bson';
import type { AuditEntry } from '../entry';
import { hashEntry } from './canonical';
import { checkpointId, type AuditCheckpoint, type PreviousChain } from './checkpoint';
import type { Signer } from './signing';

export interface ChainSettings {
  signer: Signer | null;
  checkpointEvery: number;
  checkpointIntervalMs: number;
  ttlSeconds: number | null;
}

/** What was stored of one chain since its last checkpoint. */
interface Span {
  seq: number;
  hash: string | null;
  count: number;
  firstDate: Date | null;
  lastDate: Date | null;
}

/** Dropped positions, as [from, to] ranges (drops come in runs: a full queue, a dead store). */
type Ranges = Array<[number, number]>;

/** The chain fields an entry carries once linked. */
export interface ChainFields {
  chain: string;
  seq: number;
  prevHash: string | null;
  hash: string;
}

function countUpTo(ranges: Ranges, seq: number): number {
  let total = 0;
  for (const [from, to] of ranges) if (from <= seq) total += Math.min(to, seq) - from + 1;
  return total;
}

function removeUpTo(ranges: Ranges, seq: number): Ranges {
  const out: Ranges = [];
  for (const [from, to] of ranges) {
    if (to <= seq) continue;
    out.push([Math.max(from, seq + 1), to]);
  }
  return out;
}

export class Chain {
  readonly id = new ObjectId().toHexString();
  private seq = 0;
  private lastHash: string | null = null;
  /** Per chain: stored since its last checkpoint, not yet checkpointed. */
  private readonly spans = new Map<string, Span>();
  private readonly drops = new Map<string, Ranges>();
  /** The opening checkpoint, until it is stored. */
  private opening: AuditCheckpoint | null = null;
  private lastCheckpointAt = Date.now();
  /** Chains known to have their opening checkpoint stored: this one once open() is committed, others once checked. */
  private readonly openedChains = new Set<string>();

  constructor(private readonly settings: ChainSettings) {}

  /** Numbers the entry and hashes it; the hash covers everything else, the chain fields included. */
  link(entry: AuditEntry): void {
    const fields = entry as AuditEntry & Partial<ChainFields>;
    fields.chain = this.id;
    fields.seq = ++this.seq;
    fields.prevHash = this.lastHash;
    // The canonical form leaves `hash` out, so one a transform set is simply replaced (no delete: it would slow the object down).
    fields.hash = hashEntry(fields);
    this.lastHash = fields.hash;
  }

  /** The checkpoint that opens this chain, naming the newest checkpoint the store held (another process's, or an earlier run's). */
  open(previous: AuditCheckpoint | null, now = new Date()): AuditCheckpoint {
    this.opening ??= this.make(
      this.id,
      { seq: 0, hash: null, count: 0, firstDate: null, lastDate: null },
      0,
      now,
      previous ? { chain: previous.chain, seq: previous.seq, hash: previous.hash, at: previous.at } : null,
    );
    return this.opening;
  }

  opened(): void {
    this.opening = null;
  }

  /** The store confirmed these entries (from memory or the spool). */
  written(entries: readonly AuditEntry[]): void {
    for (const entry of entries) {
      const { chain, seq, hash } = entry as AuditEntry & Partial<ChainFields>;
      if (typeof chain !== 'string' || typeof seq !== 'number') continue;
      const span = this.spans.get(chain) ?? { seq: 0, hash: null, count: 0, firstDate: null, lastDate: null };
      if (seq > span.seq) {
        span.seq = seq;
        span.hash = hash ?? null;
      }
      span.count++;
      const date = entry.date instanceof Date ? entry.date : new Date(entry.date as unknown as string);
      if (!span.firstDate || date < span.firstDate) span.firstDate = date;
      if (!span.lastDate || date > span.lastDate) span.lastDate = date;
      this.spans.set(chain, span);
    }
  }

  /** These numbered entries will never be stored (reported as EAUDIT_DROPPED): checkpoints count them. */
  dropped(entries: readonly AuditEntry[]): void {
    for (const entry of entries) {
      const { chain, seq } = entry as AuditEntry & Partial<ChainFields>;
      if (typeof chain !== 'string' || typeof seq !== 'number') continue;
      const ranges = this.drops.get(chain) ?? [];
      const last = ranges[ranges.length - 1];
      if (last && last[1] + 1 === seq) last[1] = seq;
      else ranges.push([seq, seq]);
      this.drops.set(chain, ranges);
    }
  }

  /** Milliseconds until a checkpoint is due (0: now), or null when there is nothing to checkpoint. */
  dueIn(now = Date.now()): number | null {
    if (this.opening) return 0;
    if (this.spans.size === 0) return null;
    for (const span of this.spans.values()) if (span.count >= this.settings.checkpointEvery) return 0;
    return Math.max(0, this.lastCheckpointAt + this.settings.checkpointIntervalMs - now);
  }

  /**
   * Chains of earlier processes whose entries this writer stored (replayed from the spool) and
   * whose opening checkpoint it has not seen: their writer may have died before the store was
   * up. The writer checks the store and, where it is missing, stores one with `openFor`.
   */
  unopened(checkpoints: readonly AuditCheckpoint[]): string[] {
    const opening = new Set(checkpoints.filter((checkpoint) => checkpoint.seq === 0).map((checkpoint) => checkpoint.chain));
    return [...new Set(checkpoints.map((checkpoint) => checkpoint.chain))].filter(
      (chain) => chain !== this.id && !opening.has(chain) && !this.openedChains.has(chain),
    );
  }

  /** Of these chain ids (read from replayed entries), the other writers' chains not yet known to have an opening checkpoint. */
  unopenedIds(ids: Iterable<string>): string[] {
    return [...new Set(ids)].filter((chain) => chain !== this.id && !this.openedChains.has(chain));
  }

  /** The store has an opening checkpoint for this chain. */
  markOpened(chain: string): void {
    this.openedChains.add(chain);
  }

  /** An opening checkpoint for another writer's chain, which names no previous chain: this writer did not see that one start. */
  openFor(chain: string, now = new Date()): AuditCheckpoint {
    return this.make(chain, { seq: 0, hash: null, count: 0, firstDate: null, lastDate: null }, 0, now, null);
  }

  /** The checkpoints due now (all pending spans when `force`, as close() wants); none when nothing is pending. */
  take(force: boolean, now = new Date()): AuditCheckpoint[] {
    if (this.opening) return [this.opening];
    if (!force && this.dueIn(now.getTime()) !== 0) return [];
    const out: AuditCheckpoint[] = [];
    for (const [chain, span] of this.spans) out.push(this.make(chain, span, countUpTo(this.drops.get(chain) ?? [], span.seq), now, undefined));
    return out;
  }

  /** These checkpoints are stored: their spans start again. */
  committed(checkpoints: readonly AuditCheckpoint[]): void {
    for (const checkpoint of checkpoints) {
      if (checkpoint.seq === 0) {
        if (checkpoint.chain === this.id) this.opening = null;
        this.openedChains.add(checkpoint.chain);
        continue;
      }
      const span = this.spans.get(checkpoint.chain);
      if (span && span.seq === checkpoint.seq) this.spans.delete(checkpoint.chain);
      const drops = removeUpTo(this.drops.get(checkpoint.chain) ?? [], checkpoint.seq);
      if (drops.length > 0) this.drops.set(checkpoint.chain, drops);
      else this.drops.delete(checkpoint.chain);
    }
    this.lastCheckpointAt = Date.now();
  }

  private make(chain: string, span: Span, dropped: number, at: Date, previous: PreviousChain | null | undefined): AuditCheckpoint {
    const checkpoint: AuditCheckpoint = {
      _id: checkpointId(chain, span.seq),
      chain,
      seq: span.seq,
      hash: span.hash,
      count: span.count,
      dropped,
      firstDate: span.firstDate,
      lastDate: span.lastDate,
      at,
      ttlSeconds: this.settings.ttlSeconds,
      ...(previous === undefined ? {} : { previous }),
      keyId: null,
      signature: null,
    };
    return this.settings.signer ? this.settings.signer.sign(checkpoint) : checkpoint;
  }
}
