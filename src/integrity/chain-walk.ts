/**
 * Verification of one chain: its entries and checkpoints, merged in sequence order, one event
 * at a time, so memory stays constant whatever the chain's length. What it finds goes to the
 * context; runs of missing positions are classified when the checkpoint whose span holds them
 * arrives (dropped by the writer, expired by the TTL, or missing), and at the end of the chain
 * (cut short, when a checkpoint covers positions after the last entry that is there).
 */
import type { AuditEntry } from '../entry';
import { hashEntry } from './canonical';
import type { AuditCheckpoint } from './checkpoint';
import type { Problem, Run } from './report';
import { signatureProblem, type PublicKeys } from './signing';

/** An entry that fails its hash, kept whole for the reorder check (a bounded number of them). */
export interface Suspect {
  chain: string;
  seq: number;
  entry: Partial<AuditEntry>;
}

/** A run of positions present in the store outside the verified date range. */
export interface OutOfRange {
  from: number;
  to: number;
  /** The dates of its first and last entries. */
  firstDate: Date | null;
  lastDate: Date | null;
}

export interface WalkContext {
  publicKeys: PublicKeys;
  /** Entries as the routes and the export show them (keys decoded), not as stores hold them. */
  presented: boolean;
  /** Entries dated before this (ms) may have been removed by the TTL; null: no TTL in force. */
  expiryCutoff: number | null;
  /** False when the store keeps no checkpoints: then a chain cannot be required to have an opening one. */
  checkpointsSupported: boolean;
  problem(problem: Problem): void;
  expired(run: Run): void;
  dropped(run: Run): void;
  unprotected(run: Run): void;
  /** Keeps a suspect for the reorder check; false when too many are kept already (then it is reported as modified). */
  suspect(suspect: Suspect): boolean;
  /** An opening checkpoint: the chain it names as previous is checked at the end. */
  opened(checkpoint: AuditCheckpoint): void;
  /** With a date range: the positions from..to present in the store outside the range (they are not missing). */
  outOfRange: ((chain: string, from: number, to: number) => Promise<OutOfRange[]>) | null;
  /** The verified date range (null bounds: open). */
  range: { from: Date | null; to: Date | null };
  /**
   * What the entries read are: 'full', the whole log (the store answers for entries outside the
   * range); 'range', only a date range of it (an export): gaps at the edges of each chain's part
   * are not problems unless a checkpoint span wholly inside the range holds them; 'entries', a
   * filtered selection: no gap is a problem, only what is there is checked.
   */
  coverage: Coverage;
}

export type Coverage = 'full' | 'range' | 'entries';

interface Present {
  seq: number;
  hash: string | null;
  /** Content matches the hash (false: a suspect, or a position read outside the range and not checked). */
  intact: boolean;
  id: string | null;
}

interface Gap {
  from: number;
  to: number;
  /** No entry of the chain is there before it: the TTL may explain it. */
  prefix: boolean;
  /** An entry that is there follows it (else it may be the chain's cut end). */
  followed: boolean;
  /** The date of that entry: the gap's entries are no newer (a chain's dates only grow). */
  nextDate: Date | null;
}

function dateOf(entry: Partial<AuditEntry>): Date | null {
  const date = entry.date instanceof Date ? entry.date : entry.date ? new Date(entry.date as unknown as string) : null;
  return date && !Number.isNaN(date.getTime()) ? date : null;
}

function runText(from: number, to: number): string {
  return from === to ? `seq ${from}` : `seq ${from} to ${to} (${to - from + 1} entries)`;
}

export class ChainWalk {
  entries = 0;
  checkpoints = 0;
  /** The highest position accounted for: there, or registered as a gap. */
  private position = 0;
  private last: Present | null = null;
  private seenAny = false;
  /** Gaps in the span the next checkpoint closes, not classified yet. */
  private pending: Gap[] = [];
  /** Gaps classified missing that no entry follows yet: at the end they are the chain cut short (the flag: provably inside the range). */
  private unresolved: Array<[number, number, string, boolean]> = [];
  private covered = 0;
  private opened = false;
  /** The missing run being reported: a hole split by checkpoints is still one problem. */
  private hole: [number, number, string] | null = null;

  constructor(
    readonly chain: string,
    private readonly ctx: WalkContext,
  ) {}

  /** Every entry stored at one position (more than one: all but one were inserted). */
  async entry(group: Array<Partial<AuditEntry>>): Promise<void> {
    const seq = group[0]!.seq as number;
    this.entries += group.length;
    const intact = group.map((entry) => typeof entry.hash === 'string' && hashEntry(entry, this.ctx.presented) === entry.hash);
    let pick = group.findIndex((entry, i) => intact[i] && this.last?.intact && this.last.seq === seq - 1 && entry.prevHash === this.last.hash);
    if (pick < 0) pick = intact.indexOf(true);
    if (pick < 0) pick = 0;
    group.forEach((entry, i) => {
      if (i !== pick)
        this.ctx.problem({
          kind: 'inserted',
          chain: this.chain,
          seq,
          entryId: String(entry._id),
          message: `entry ${entry._id} claims seq ${seq} of chain ${this.chain}, which entry ${group[pick]!._id} holds${intact[i] ? '' : ', and its content does not match its hash'}: no writer put it there.`,
        });
    });
    const entry = group[pick]!;
    const date = dateOf(entry);
    if (seq > this.position + 1) await this.gap(this.position + 1, seq - 1, true, date);
    for (const [from, to, why, inside] of this.unresolved) if (inside) this.missing(from, to, why);
    this.unresolved = [];
    this.reportHole();

    const id = String(entry._id);
    const present: Present = { seq, hash: typeof entry.hash === 'string' ? entry.hash : null, intact: intact[pick]!, id };
    if (!present.intact) {
      if (!this.ctx.suspect({ chain: this.chain, seq, entry })) this.modified(seq, id);
    } else if (seq === 1 && entry.prevHash !== null && entry.prevHash !== undefined) {
      this.ctx.problem({
        kind: 'modified',
        chain: this.chain,
        seq,
        entryId: id,
        message: `entry ${id} is the first of chain ${this.chain} but names a previous hash: it was rewritten with a recomputed hash.`,
      });
    } else if (this.last?.intact && this.last.seq === seq - 1 && entry.prevHash !== this.last.hash) {
      this.ctx.problem({
        kind: 'modified',
        chain: this.chain,
        fromSeq: seq - 1,
        toSeq: seq,
        entryId: id,
        message: `entries ${this.last.id} (seq ${seq - 1}) and ${id} (seq ${seq}) of chain ${this.chain} do not link (the second names another previous hash): one of them was rewritten with a recomputed hash.`,
      });
    }
    this.last = present;
    this.seenAny = true;
    this.position = Math.max(this.position, seq);
  }

  async checkpoint(checkpoint: AuditCheckpoint): Promise<void> {
    this.checkpoints++;
    if (this.ctx.publicKeys.size > 0) {
      const why = signatureProblem(checkpoint, this.ctx.publicKeys);
      if (why)
        this.ctx.problem({
          kind: 'checkpoint-signature',
          chain: this.chain,
          seq: checkpoint.seq,
          checkpointId: checkpoint._id,
          message: `checkpoint ${checkpoint._id} cannot be trusted: ${why}.`,
        });
    }
    if (checkpoint.seq === 0) {
      this.opened = true;
      this.ctx.opened(checkpoint);
      return;
    }
    if (this.position < checkpoint.seq) {
      await this.gap(this.position + 1, checkpoint.seq, false, null);
      this.position = checkpoint.seq;
    }
    this.classify(checkpoint);
    if (this.last?.seq === checkpoint.seq && this.last.intact && this.last.hash !== checkpoint.hash) {
      this.ctx.problem({
        kind: 'checkpoint-mismatch',
        chain: this.chain,
        seq: checkpoint.seq,
        checkpointId: checkpoint._id,
        entryId: this.last.id ?? undefined,
        message: `checkpoint ${checkpoint._id} says seq ${checkpoint.seq} hashes to ${checkpoint.hash}, but entry ${this.last.id} there hashes to ${this.last.hash}: the chain was rebuilt (entries rewritten and their hashes recomputed) before this point.`,
      });
    }
    this.covered = Math.max(this.covered, checkpoint.seq);
  }

  end(): void {
    // Gaps after the last checkpoint: an entry follows each, so they are holes, or expiry at the chain's start.
    for (const gap of this.pending) {
      if (this.ctx.coverage === 'entries' || (this.ctx.coverage === 'range' && gap.prefix)) continue;
      if (gap.prefix && this.expiredBefore(null, gap.nextDate)) this.ctx.expired({ chain: this.chain, fromSeq: gap.from, toSeq: gap.to });
      else this.missing(gap.from, gap.to, 'no checkpoint covers them yet');
    }
    this.pending = [];
    this.reportHole();
    for (const [from, to, , inside] of this.unresolved) {
      if (!inside) continue;
      this.ctx.problem({
        kind: 'truncated',
        chain: this.chain,
        fromSeq: from,
        toSeq: to,
        message: `chain ${this.chain} was cut short: a checkpoint covers ${runText(from, to)}, and ${from === to ? 'it is' : 'they are'} gone from its end.`,
      });
    }
    this.unresolved = [];
    if (this.last && this.position > this.covered) this.ctx.unprotected({ chain: this.chain, fromSeq: this.covered + 1, toSeq: this.position });
    if (!this.opened && this.ctx.checkpointsSupported && this.seenAny) {
      this.ctx.problem({
        kind: 'inserted',
        chain: this.chain,
        fromSeq: 1,
        toSeq: this.position,
        message: `chain ${this.chain} has no opening checkpoint: no writer of this log started it, so its ${this.entries} entries were inserted.`,
      });
    }
  }

  private modified(seq: number, id: string): void {
    this.ctx.problem({
      kind: 'modified',
      chain: this.chain,
      seq,
      entryId: id,
      message: `entry ${id} (seq ${seq} of chain ${this.chain}) was modified: its content does not match its hash.`,
    });
  }

  private missing(from: number, to: number, why: string): void {
    if (this.hole && this.hole[1] + 1 === from) {
      this.hole[1] = to;
      return;
    }
    this.reportHole();
    this.hole = [from, to, why];
  }

  private reportHole(): void {
    if (!this.hole) return;
    const [from, to, why] = this.hole;
    this.hole = null;
    this.ctx.problem({
      kind: 'missing',
      chain: this.chain,
      fromSeq: from,
      toSeq: to,
      message: `${runText(from, to)} of chain ${this.chain} ${from === to ? 'is' : 'are'} missing from the middle of the chain (${why}).`,
    });
  }

  /** Registers positions from..to as absent, less those present outside the verified date range. */
  private async gap(from: number, to: number, followed: boolean, nextDate: Date | null): Promise<void> {
    let start = from;
    let before: Date | null = null;
    const outside = this.ctx.outOfRange ? await this.ctx.outOfRange(this.chain, from, to) : [];
    for (const run of outside) {
      if (run.from > start && this.inRange(before, run.firstDate))
        this.pending.push({ from: start, to: run.from - 1, prefix: !this.seenAny, followed: true, nextDate: run.firstDate });
      // There, but not read: the next entry's link to it is not checked.
      this.seenAny = true;
      this.last = { seq: run.to, hash: null, intact: false, id: null };
      before = run.lastDate;
      start = run.to + 1;
    }
    if (start <= to && this.inRange(before, nextDate)) this.pending.push({ from: start, to, prefix: !this.seenAny, followed, nextDate });
  }

  /** True when every entry of the checkpoint's span is dated inside the range (so all of them should have been read). */
  private spanInside(checkpoint: AuditCheckpoint): boolean {
    const { from, to } = this.ctx.range;
    const first = checkpoint.firstDate ?? checkpoint.at;
    const last = checkpoint.lastDate ?? checkpoint.at;
    return (!from || first >= from) && (!to || last <= to);
  }

  /** False when a gap lies between entries both before the range, or both after it (a chain's dates only grow). */
  private inRange(before: Date | null, after: Date | null): boolean {
    const { from, to } = this.ctx.range;
    if (from && after && after < from) return false;
    if (to && before && before > to) return false;
    return true;
  }

  /** The gaps of the span this checkpoint closes: dropped by the writer, expired, or missing. */
  private classify(checkpoint: AuditCheckpoint): void {
    let allowance = checkpoint.dropped ?? 0;
    const inside = this.spanInside(checkpoint);
    for (const gap of this.pending) {
      const size = gap.to - gap.from + 1;
      // Not read, so not missing: filtered out, or before or after the range.
      if (this.ctx.coverage === 'entries' || (this.ctx.coverage === 'range' && gap.prefix && !inside)) continue;
      if (size <= allowance) {
        allowance -= size;
        this.ctx.dropped({ chain: this.chain, fromSeq: gap.from, toSeq: gap.to });
      } else if (gap.prefix && this.expiredBefore(checkpoint, gap.nextDate)) {
        this.ctx.expired({ chain: this.chain, fromSeq: gap.from, toSeq: gap.to });
      } else if (gap.followed) {
        this.missing(gap.from, gap.to, `checkpoint ${checkpoint._id} covers them`);
      } else {
        const inRange = this.ctx.coverage === 'full' || inside;
        const last = this.unresolved[this.unresolved.length - 1];
        if (last && last[1] + 1 === gap.from && last[3] === inRange) last[1] = gap.to;
        else this.unresolved.push([gap.from, gap.to, `checkpoint ${checkpoint._id} covers them`, inRange]);
      }
    }
    this.pending = [];
  }

  /**
   * True when the TTL can have removed a run at the start of what is left of the chain: the
   * span holding it began before the cutoff, or the entry after it is itself older than the cutoff.
   */
  private expiredBefore(checkpoint: AuditCheckpoint | null, nextDate: Date | null): boolean {
    const cutoff = this.ctx.expiryCutoff;
    if (cutoff === null) return false;
    const spanStart = checkpoint ? (checkpoint.firstDate ?? checkpoint.at) : null;
    return (spanStart !== null && spanStart.getTime() < cutoff) || (nextDate !== null && nextDate.getTime() < cutoff);
  }
}
