/**
 * Verifies a store's chains: every chained entry is read once, chain by chain in sequence
 * order, with the checkpoints merged in, a page at a time (memory stays constant whatever the
 * size: a page, one chain's state, and bounded lists). The same code serves the verify route,
 * the offline command on a MongoDB collection, and on an export (loaded into a memory store).
 */
import type { AuditEntry } from '../entry';
import type { AuditFilter, AuditStore } from '../stores/types';
import { storesCheckpoints } from '../stores/types';
import { hashEntry } from './canonical';
import { checkpointId, type AuditCheckpoint } from './checkpoint';
import { ChainWalk, type Coverage, type OutOfRange, type Suspect, type WalkContext } from './chain-walk';
import type { Problem, Run, VerifyReport } from './report';
import type { PublicKeys } from './signing';

export interface VerifyOptions {
  from?: Date | null;
  to?: Date | null;
  publicKeys: PublicKeys;
  /** Entries hold keys as the routes show them (an export), not as stores keep them. */
  presented?: boolean;
  /** The `ttl` to assume when no checkpoint says which is in force (seconds, null: none). */
  ttlSeconds?: number | null;
  now?: Date;
  /** Problems listed at most (all are counted). Defaults to 1000. */
  maxProblems?: number;
  /** What the store holds: the whole log ('full', the default), or only part of one (an export; see Coverage). */
  coverage?: Coverage;
}

const PAGE = 500;
/** Entries failing their hash kept for the reorder check; past this they are reported as modified. */
const MAX_SUSPECTS = 200;
/** Positions read back one by one to tell out-of-range entries from missing ones; past this, counted. */
const MAX_RANGE_READ = 5000;
/** The TTL monitor runs on the database's clock: this much skew is allowed before a gap is not expiry. */
const CLOCK_SLACK_MS = 60_000;
const MAX_RUNS = 1000;

type Keyed = Partial<AuditEntry> & { chain: string; seq: number; _id: string };

/** Pages of results, peeked one at a time. */
class Pager<T> {
  private page: T[] = [];
  private index = 0;
  private done = false;
  private last: T | null = null;

  constructor(private readonly fetch: (after: T | null) => Promise<T[]>) {}

  async peek(): Promise<T | null> {
    if (this.index < this.page.length) return this.page[this.index]!;
    if (this.done) return null;
    this.page = await this.fetch(this.last);
    this.index = 0;
    if (this.page.length < PAGE) this.done = true;
    return this.page[0] ?? null;
  }

  async next(): Promise<T | null> {
    const item = await this.peek();
    if (item !== null) {
      this.index++;
      this.last = item;
    }
    return item;
  }
}

function and(...filters: Array<AuditFilter | null>): AuditFilter {
  const parts = filters.filter((filter): filter is AuditFilter => filter !== null && Object.keys(filter).length > 0);
  return parts.length === 0 ? {} : parts.length === 1 ? parts[0]! : { $and: parts };
}

function pushRun(runs: Run[], run: Run): void {
  const last = runs[runs.length - 1];
  if (last && last.chain === run.chain && last.toSeq + 1 === run.fromSeq) last.toSeq = run.toSeq;
  else if (runs.length < MAX_RUNS) runs.push({ ...run });
}

export async function verifyStore(store: AuditStore, options: VerifyOptions): Promise<VerifyReport> {
  const now = options.now ?? new Date();
  const maxProblems = options.maxProblems ?? 1000;
  const presented = options.presented ?? false;
  const supported = storesCheckpoints(store);
  const ranged = !!(options.from || options.to);
  const range: AuditFilter | null = ranged ? { date: { ...(options.from ? { $gte: options.from } : {}), ...(options.to ? { $lte: options.to } : {}) } } : null;

  const problems: Problem[] = [];
  let problemsTotal = 0;
  const report = (problem: Problem) => {
    problemsTotal++;
    if (problems.length < maxProblems) problems.push(problem);
  };
  const expired: Run[] = [];
  const dropped: Run[] = [];
  const unprotected: Run[] = [];
  const suspects: Suspect[] = [];
  const openings: AuditCheckpoint[] = [];
  let earliestOpening: Date | null = null;
  let earliestChained: Date | null = null;

  // The ttl in force is the one the newest checkpoint states (signed, so a forger cannot shorten it).
  const latest = supported ? await store.latestCheckpoint() : null;
  const ttlSeconds = latest ? latest.ttlSeconds : (options.ttlSeconds ?? null);
  const ctx: WalkContext = {
    publicKeys: options.publicKeys,
    presented,
    expiryCutoff: ttlSeconds === null || ttlSeconds === undefined ? null : now.getTime() - ttlSeconds * 1000 + CLOCK_SLACK_MS,
    checkpointsSupported: supported,
    problem: report,
    expired: (run) => pushRun(expired, run),
    dropped: (run) => pushRun(dropped, run),
    unprotected: (run) => pushRun(unprotected, run),
    suspect: (suspect) => suspects.length < MAX_SUSPECTS && suspects.push(suspect) > 0,
    opened: (checkpoint) => {
      if (!earliestOpening || checkpoint.at < earliestOpening) earliestOpening = checkpoint.at;
      if (checkpoint.previous) openings.push(checkpoint);
    },
    outOfRange: ranged && (options.coverage ?? 'full') === 'full' ? (chain, from, to) => presentOutside(store, chain, from, to) : null,
    range: { from: options.from ?? null, to: options.to ?? null },
    coverage: options.coverage ?? 'full',
  };

  const chained: AuditFilter = { chain: { $exists: true, $ne: null } };
  const entries = new Pager<Keyed>(async (after) => {
    const keyset = after
      ? {
          $or: [
            { chain: { $gt: after.chain } },
            { chain: after.chain, seq: { $gt: after.seq } },
            { chain: after.chain, seq: after.seq, _id: { $gt: after._id } },
          ],
        }
      : null;
    const { docs } = await store.find({
      filter: and(range, chained, keyset),
      sort: [
        ['chain', 1],
        ['seq', 1],
        ['_id', 1],
      ],
      skip: 0,
      limit: PAGE,
      select: null,
    });
    return docs as Keyed[];
  });
  const checkpoints = new Pager<AuditCheckpoint>((after) =>
    supported ? store.findCheckpoints({ after: after?._id ?? null, limit: PAGE }) : Promise.resolve([]),
  );

  let chains = 0;
  let entryCount = 0;
  let checkpointCount = 0;
  for (;;) {
    let entry = await entries.peek();
    // Chain fields of the wrong type: not something a writer made.
    while (entry && (typeof entry.chain !== 'string' || typeof entry.seq !== 'number' || !Number.isInteger(entry.seq) || entry.seq < 1)) {
      entryCount++;
      report({
        kind: 'inserted',
        chain: typeof entry.chain === 'string' ? entry.chain : null,
        entryId: String(entry._id),
        message: `entry ${entry._id} has malformed chain fields (chain ${JSON.stringify(entry.chain)}, seq ${JSON.stringify(entry.seq)}): no writer made it.`,
      });
      await entries.next();
      entry = await entries.peek();
    }
    const checkpoint = await checkpoints.peek();
    if (!entry && !checkpoint) break;
    const chain = !checkpoint || (entry && entry.chain < checkpoint.chain) ? entry!.chain : checkpoint.chain;
    const walk = new ChainWalk(chain, ctx);
    chains++;
    for (;;) {
      const e = await entries.peek();
      const c = await checkpoints.peek();
      const nextEntry = e && e.chain === chain && typeof e.seq === 'number' ? e : null;
      const nextCheckpoint = c && c.chain === chain ? c : null;
      if (!nextEntry && !nextCheckpoint) break;
      if (nextEntry && (!nextCheckpoint || nextEntry.seq <= nextCheckpoint.seq)) {
        const group: Keyed[] = [];
        for (let same = await entries.peek(); same && same.chain === chain && same.seq === nextEntry.seq; same = await entries.peek()) {
          group.push(same);
          const date = same.date instanceof Date ? same.date : null;
          if (date && (!earliestChained || date < earliestChained)) earliestChained = date;
          await entries.next();
        }
        await walk.entry(group);
      } else {
        await walk.checkpoint((await checkpoints.next())!);
      }
    }
    walk.end();
    entryCount += walk.entries;
    checkpointCount += walk.checkpoints;
  }

  await resolveSuspects(store, suspects, presented, report);
  await checkOpenings(store, openings, report);
  const unchained = await checkUnchained(store, range, earliestOpening ?? earliestChained, report);

  const notes: string[] = [];
  if (!supported)
    notes.push('checkpoints unsupported by this store: entries are chained and checked, but a chain cut short at its end, or removed whole, cannot be seen.');
  if (unprotected.length > 0)
    notes.push(
      "entries after their chain's last checkpoint are checked for changes and links, but a cut at the chain's end cannot be seen until the next checkpoint covers them (at most checkpointEvery entries or checkpointIntervalMs later; close() writes one).",
    );
  if (supported && options.publicKeys.size === 0 && checkpointCount > 0)
    notes.push(
      'no public key configured: checkpoint signatures were not checked, so someone able to write to the database could have rebuilt the chains and their checkpoints.',
    );
  if (expired.length > 0)
    notes.push(`positions marked expired were removed by the ttl in force (${ttlSeconds} s, as the newest checkpoint states), not tampered with.`);
  if (unchained > 0)
    notes.push(`${unchained} entries without chain fields are older than the first chain: written before integrity was turned on, so they cannot be verified.`);

  return {
    ok: problemsTotal === 0,
    range: { from: options.from?.toISOString() ?? null, to: options.to?.toISOString() ?? null },
    checked: {
      chains,
      entries: entryCount,
      checkpoints: checkpointCount,
      signatures: checkpointCount === 0 ? 'no checkpoints' : options.publicKeys.size > 0 ? 'verified' : 'not checked: no public key configured',
    },
    checkpoints: supported ? 'supported' : 'unsupported by this store',
    problems,
    problemsTotal,
    expired,
    dropped,
    unprotected,
    unchained,
    notes,
  };
}

/** Runs of positions from..to of a chain present in the store whatever their date (the range left them out). */
async function presentOutside(store: AuditStore, chain: string, from: number, to: number): Promise<OutOfRange[]> {
  // The common case, a long stretch before or after the range, all there: one count.
  if (to - from + 1 > MAX_RANGE_READ && (await store.count({ chain, seq: { $gte: from, $lte: to } })) === to - from + 1)
    return [{ from, to, firstDate: null, lastDate: null }];
  const runs: OutOfRange[] = [];
  let after = from - 1;
  for (;;) {
    const { docs } = await store.find({
      filter: { chain, seq: { $gt: after, $lte: to } },
      sort: [['seq', 1]],
      skip: 0,
      limit: PAGE,
      select: ['_id', 'seq', 'date'],
    });
    for (const doc of docs) {
      const seq = doc.seq as number;
      const date = doc.date instanceof Date ? doc.date : null;
      const last = runs[runs.length - 1];
      if (last && seq <= last.to + 1) {
        last.to = Math.max(last.to, seq);
        last.lastDate = date;
      } else {
        runs.push({ from: seq, to: seq, firstDate: date, lastDate: date });
      }
    }
    if (docs.length < PAGE) return runs;
    after = docs[docs.length - 1]!.seq as number;
  }
}

/**
 * An entry that fails its hash may be intact but moved: its hash holds at the position after the
 * entry its prevHash names. Moved entries (a swap) are reported as reordered, the rest as modified.
 */
async function resolveSuspects(store: AuditStore, suspects: Suspect[], presented: boolean, report: (problem: Problem) => void): Promise<void> {
  const suspectHashes = new Set(suspects.map((s) => s.entry.hash));
  const resolved = new Map<string, number>();
  const moved = new Map<Suspect, number>();
  for (let pass = 0, changed = true; changed && pass < 4; pass++) {
    changed = false;
    for (const suspect of suspects) {
      if (moved.has(suspect)) continue;
      const { prevHash, hash } = suspect.entry;
      let before: number | null = null;
      if (prevHash === null || prevHash === undefined) before = 0;
      else if (resolved.has(prevHash)) before = resolved.get(prevHash)!;
      else if (!suspectHashes.has(prevHash)) {
        const { docs } = await store.find({ filter: { chain: suspect.chain, hash: prevHash }, sort: [['seq', 1]], skip: 0, limit: 1, select: ['_id', 'seq'] });
        before = typeof docs[0]?.seq === 'number' ? docs[0].seq : null;
      }
      if (before === null || before + 1 === suspect.seq || typeof hash !== 'string') continue;
      if (hashEntry({ ...suspect.entry, seq: before + 1 }, presented) !== hash) continue;
      moved.set(suspect, before + 1);
      resolved.set(hash, before + 1);
      changed = true;
    }
  }
  for (const suspect of suspects) {
    const id = String(suspect.entry._id);
    const home = moved.get(suspect);
    if (home === undefined)
      report({
        kind: 'modified',
        chain: suspect.chain,
        seq: suspect.seq,
        entryId: id,
        message: `entry ${id} (seq ${suspect.seq} of chain ${suspect.chain}) was modified: its content does not match its hash.`,
      });
    else
      report({
        kind: 'reordered',
        chain: suspect.chain,
        seq: suspect.seq,
        entryId: id,
        message: `entry ${id} is intact but was moved: it is at seq ${suspect.seq} of chain ${suspect.chain}, and its hash holds at seq ${home} (the order of entries was changed).`,
      });
  }
}

/** Each chain's opening checkpoint names the newest checkpoint the store held then: it must still be there. */
async function checkOpenings(store: AuditStore, openings: AuditCheckpoint[], report: (problem: Problem) => void): Promise<void> {
  if (!storesCheckpoints(store)) return;
  for (const opening of openings) {
    const previous = opening.previous!;
    const wanted = checkpointId(previous.chain, previous.seq);
    const after = previous.seq === 0 ? `${previous.chain}:` : checkpointId(previous.chain, previous.seq - 1);
    const [found] = await store.findCheckpoints({ after, limit: 1 });
    if (!found || found._id !== wanted) {
      report({
        kind: 'missing',
        chain: previous.chain,
        seq: previous.seq,
        checkpointId: wanted,
        message: `checkpoint ${wanted} is gone: chain ${opening.chain}'s opening checkpoint names it as the newest when it started (checkpoints never expire), so chain ${previous.chain} was removed.`,
      });
    } else if (found.hash !== previous.hash) {
      report({
        kind: 'checkpoint-mismatch',
        chain: previous.chain,
        seq: previous.seq,
        checkpointId: wanted,
        message: `checkpoint ${wanted} says seq ${previous.seq} hashes to ${found.hash}, but chain ${opening.chain}'s opening checkpoint recorded ${previous.hash}: it was replaced.`,
      });
    }
  }
}

/** Entries without chain fields: older than the first chain, written before integrity was on; else inserted. */
async function checkUnchained(store: AuditStore, range: AuditFilter | null, firstChain: Date | null, report: (problem: Problem) => void): Promise<number> {
  let before = 0;
  let after: string | null = null;
  for (;;) {
    const { docs } = await store.find({
      filter: and(range, { chain: null }, after ? { _id: { $gt: after } } : null),
      sort: [['_id', 1]],
      skip: 0,
      limit: PAGE,
      select: ['_id', 'date'],
    });
    for (const doc of docs) {
      const date = doc.date instanceof Date ? doc.date : new Date(doc.date as unknown as string);
      if (firstChain && date < firstChain) before++;
      else
        report({
          kind: 'inserted',
          chain: null,
          entryId: String(doc._id),
          message: `entry ${doc._id} has no chain fields and is not older than the first chain: no writer with integrity on made it.`,
        });
    }
    if (docs.length < PAGE) return before;
    after = String(docs[docs.length - 1]!._id);
  }
}
