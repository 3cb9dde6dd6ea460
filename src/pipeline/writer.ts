/**
 * The writer takes entries off the request path: `push()` only queues, and batches are
 * written in the background. One unit of work (start the store, write one batch, replay one
 * batch from the spool) runs at a time, so the store sees entries in the order they were
 * recorded, whoever asks for the work (the timer, flush(), close()).
 *
 * A failed batch goes back to the head of the queue and is retried with exponential backoff
 * and jitter; ids are fixed before the first try, so a retry of a batch the store half-wrote
 * cannot duplicate anything (stores treat a duplicate id as written). The queue is bounded in
 * entries and in bytes, the batch being written included. Past either bound, entries go to
 * the spool (when configured) or are dropped; every drop is counted and reported.
 *
 * A batch the store rejects for what is in it (too large, not encodable: `isRejection`) is
 * written again one entry at a time, at once, so the entries that can be stored are and the
 * ones that cannot are dropped and reported, instead of blocking everything behind them.
 *
 * Order: entries in memory are always older than entries in the spool. Once anything is
 * spooled, newer entries follow it there until the spool is replayed, which starts only when
 * memory is empty; close() puts what is left in memory before the spooled entries.
 *
 * Integrity (a Chain given): each entry is numbered and hashed in push(), before it is queued,
 * so retries and the spool carry the same chain fields, and since the store sees entries in
 * push order the chain is stored in order. Checkpoints (the chain's opening one first, before any
 * entry) are units of work of their own; one that fails is retried on its own backoff, so entries
 * keep being written: a store that cannot take checkpoints costs the log its proof, not its entries.
 *
 * Journal (durability: 'journal'): push() appends each entry to the journal, after it is linked
 * into the chain (a replay carries the same chain fields), before it is queued; the journal
 * forgets it once the store confirmed it, the spool took it, or the store rejected it for good.
 */
import type { AuditEntry } from '../entry';
import { AuditLogStoreError } from '../errors';
import { isRejection, storesCheckpoints, type WriteTarget } from '../stores/types';
import type { Config } from '../options';
import type { Chain } from '../integrity/chain';
import type { AuditCheckpoint } from '../integrity/checkpoint';
import type { Spool } from './spool';
import type { Journal } from './journal';

/** Stamps governance metadata (expiry, hold marks) on entries as they go to the store; see src/governance/holds.ts. */
export interface EntryStamper {
  stamp(entry: AuditEntry): void;
  /** Loads what stamping needs (the active holds); called once the store is up, before the first write. */
  start(): Promise<void>;
  stop(): void;
}

/** The resolved options the writer reads; taken from Config so the two cannot drift. */
export type WriterSettings = Pick<
  Config,
  'ttlSeconds' | 'batchSize' | 'flushIntervalMs' | 'maxQueueEntries' | 'maxQueueBytes' | 'retryMinDelayMs' | 'retryMaxDelayMs'
> &
  Partial<Pick<Config, 'tenants'>>;

export interface AuditStats {
  /** Entries handed to the writer since start. */
  recorded: number;
  /** Entries the store confirmed, from memory or replayed from the spool. */
  written: number;
  /** Entries in write attempts that failed (each retry of an entry counts again). */
  failed: number;
  /** Entries written after at least one failed attempt. */
  retried: number;
  /** Entries moved to the on-disk spool because the queue was full or close() ran out of time. */
  spooled: number;
  /** Spooled entries read back and written to the store (also counted in `written`), including those a previous process left. */
  replayed: number;
  /** Entries lost: the queue was full with no spool, the spool failed, or they came after close(). */
  dropped: number;
  /** Entries held in memory now, the batch being written included. */
  queued: number;
  /** Their estimated size in bytes; never above `maxQueueBytes`. */
  queuedBytes: number;
}

interface Queued {
  entry: AuditEntry;
  bytes: number;
  /** Push order, for flush() to know what was queued when it was called. */
  seq: number;
  /** When it was queued: a partial batch is written once its oldest entry waited flushIntervalMs. */
  at: number;
  /** Set when this entry already failed once, so its eventual write counts as a retry. */
  retry?: boolean;
}

type Report = (error: AuditLogStoreError) => void;

/** What one unit of work did. */
type Outcome = 'idle' | 'progress' | 'failed' | 'backoff' | 'abandoned';

interface DrainOptions {
  /** Stop waiting at this time (ms since the epoch). Infinity: stop at the first failure instead. */
  deadline: number;
  /** Also replay the spool. close() does not: spooled entries are safe on disk. */
  replay: boolean;
  /** Stop once this holds. */
  done?: () => boolean;
}

const TIMEOUT = Symbol('timeout');
/** setTimeout fires at once for anything longer. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** What the chain fields add to an entry's stored size (two hashes, a chain id, a number). */
const CHAIN_BYTES = 200;

/** Resolves to the promise's value, or TIMEOUT at the deadline, whichever comes first. */
function beforeDeadline<T>(promise: Promise<T>, deadline: number): Promise<T | typeof TIMEOUT> {
  if (deadline === Infinity) return promise;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<typeof TIMEOUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMEOUT), Math.max(0, deadline - Date.now()));
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function errorText(error: unknown): string {
  return (error as Error)?.message ?? String(error);
}

export class Writer {
  private readonly queue: Queued[] = [];
  /** The batch being written now; still counted in `queued` and `queuedBytes`. */
  private inFlight: Queued[] | null = null;
  private queuedBytes = 0;
  private seq = 0;
  private readonly counts = { recorded: 0, written: 0, failed: 0, retried: 0, spooled: 0, replayed: 0, dropped: 0 };
  private timer: NodeJS.Timeout | null = null;
  private pumping = false;
  /** The unit of work running now; everyone who wants work done waits for it first. */
  private busy: Promise<Outcome> | null = null;
  private backoffUntil = 0;
  private attempt = 0;
  /** After a rejected batch: this many entries are written one at a time, to find the bad ones. */
  private singles = 0;
  private initialized = false;
  private closing: Promise<void> | null = null;
  /** After close(): late outcomes of abandoned work change nothing. */
  private stopped = false;
  /** The chain, when it has checkpoints to write: the store implements the checkpoint methods. */
  private readonly checkpoints: Chain | null;
  /** After a failed checkpoint write: not again before this time (ms), and how many failed in a row. */
  private checkpointRetryAt = 0;
  private checkpointAttempt = 0;

  constructor(
    private readonly store: WriteTarget,
    private readonly settings: WriterSettings,
    private readonly report: Report,
    private readonly spool: Spool | null = null,
    private readonly chain: Chain | null = null,
    private readonly stamper: EntryStamper | null = null,
    private readonly journal: Journal | null = null,
  ) {
    this.checkpoints = chain && storesCheckpoints(store) ? chain : null;
    // Start the store (and replay a spool left by an earlier process) at once.
    void this.pump();
  }

  /** Queues one entry; never throws, never waits. */
  push(entry: AuditEntry, bytes: number): void {
    this.counts.recorded++;
    if (this.closing) {
      this.counts.dropped++;
      this.report(
        new AuditLogStoreError(
          'EAUDIT_CLOSED',
          'an entry was recorded after close(); it was dropped. Close the audit log after the server stops accepting requests.',
          1,
        ),
      );
      return;
    }
    if (this.chain) {
      this.chain.link(entry);
      bytes += CHAIN_BYTES;
    }
    this.journal?.append(entry);
    const item: Queued = { entry, bytes, seq: ++this.seq, at: Date.now() };
    const held = this.queue.length + (this.inFlight?.length ?? 0);
    // Once anything is spooled, newer entries follow it there, so the store sees them in order.
    if (this.spool?.hasPending() || held >= this.settings.maxQueueEntries || this.queuedBytes + bytes > this.settings.maxQueueBytes) {
      this.overflow([item], 'the queue is full', false);
      return;
    }
    this.queue.push(item);
    this.queuedBytes += bytes;
    // A full batch does not sit out the fill timer: flushIntervalMs is the longest an entry waits
    // for its batch to fill. (Entries that wait longer than the young generation's collection
    // interval get copied by the collector; under load that was a measurable share of the cost.)
    // A backoff timer after a failed write still holds.
    if (this.timer && this.queue.length === this.settings.batchSize && Date.now() >= this.backoffUntil) this.clearTimer();
    this.schedule();
  }

  stats(): AuditStats {
    return { ...this.counts, queued: this.queue.length + (this.inFlight?.length ?? 0), queuedBytes: this.queuedBytes };
  }

  /**
   * Resolves once the store has started and everything recorded before the call (in memory
   * or in the spool) has been written, or the writer gave up for now (a failed attempt; it
   * retries in the background), or `deadlineMs` passed: an app's test file that loads the app
   * but never connects mongoose would otherwise wait out the store's connect timeout.
   */
  async flush(deadlineMs?: number): Promise<void> {
    if (this.closing) return;
    const last = this.seq;
    const spooledUpTo = this.spool?.tail() ?? 0;
    const deadline = typeof deadlineMs === 'number' && deadlineMs >= 0 ? Date.now() + Math.min(deadlineMs, MAX_TIMER_MS) : Infinity;
    await this.drain({
      deadline,
      replay: true,
      done: () => {
        if (!this.initialized) return false;
        const oldest = this.inFlight?.[0] ?? this.queue[0];
        if (oldest && oldest.seq <= last) return false;
        const head = this.spool?.head() ?? null;
        return head === null || head > spooledUpTo;
      },
    });
  }

  /**
   * Writes what it can before `deadlineMs` from now, spools (or counts as dropped) the rest,
   * then closes the store. Always resolves by the deadline, even when the store hangs.
   * Calling it again returns the same promise.
   */
  close(deadlineMs = 10_000): Promise<void> {
    // Not a number: the default. Negative: now. Past what a timer can wait (~24 days): that.
    const wait = typeof deadlineMs !== 'number' || Number.isNaN(deadlineMs) ? 10_000 : Math.min(Math.max(deadlineMs, 0), MAX_TIMER_MS);
    this.closing ??= this.shutdown(Date.now() + wait);
    return this.closing;
  }

  private async shutdown(deadline: number): Promise<void> {
    this.clearTimer();
    await this.drain({ deadline, replay: false, done: () => this.queue.length === 0 && !this.inFlight });
    // Everything stored is covered before the process goes: no unprotected tail after a clean close.
    if (this.checkpoints && this.initialized && Date.now() < deadline) {
      // A unit of work still running (a due checkpoint being written, say) finishes first; no
      // other starts once closing, so then every pending checkpoint is written, this one included.
      const running = this.busy;
      if (running)
        await beforeDeadline(
          running.then(
            () => undefined,
            () => undefined,
          ),
          deadline,
        );
      if (Date.now() < deadline) await beforeDeadline(this.writeCheckpoints(true), deadline).catch(() => undefined);
    }
    this.stopped = true;
    this.stamper?.stop();
    // A batch still in flight has an unknown outcome: spool it too. If the store did take it,
    // its replay meets duplicate ids and writes nothing twice.
    const left = [...(this.inFlight ?? []), ...this.queue];
    this.inFlight = null;
    this.queue.length = 0;
    this.queuedBytes = 0;
    if (left.length > 0) this.overflow(left, 'close() reached its deadline', true);
    await this.spool?.close();
    this.journal?.close();
    try {
      await beforeDeadline(
        Promise.resolve().then(() => this.store.close()),
        deadline,
      );
    } catch (error) {
      this.report(new AuditLogStoreError('EAUDIT_STORE_CLOSE', `the store failed to close: ${errorText(error)}`, 0, error));
    }
  }

  /** Runs units of work until there is nothing to do, `done` holds, a write fails (no deadline) or the deadline passes. */
  private async drain(options: DrainOptions): Promise<void> {
    const { deadline, done } = options;
    for (;;) {
      if (done?.() || Date.now() >= deadline) return;
      // Once close() runs, only its own drain (the one without replay) goes on.
      if (this.stopped || (this.closing && options.replay)) return;
      const outcome = await beforeDeadline(this.step(options.replay), deadline);
      if (outcome === TIMEOUT || outcome === 'idle' || outcome === 'abandoned') return;
      if (outcome === 'progress') continue;
      // 'failed' or 'backoff'
      if (deadline === Infinity) return;
      const wait = Math.min(this.backoffUntil, deadline) - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }

  /** Starts one unit of work, or joins the one running. */
  private step(replay: boolean): Promise<Outcome> {
    if (this.busy) return this.busy.then((outcome) => (outcome === 'idle' ? this.step(replay) : outcome));
    // Claimed before the work starts: a store or an 'error' listener that calls back into the
    // writer synchronously joins this step instead of starting a second one beside it.
    const running = Promise.resolve(replay).then((withReplay) => this.work(withReplay));
    this.busy = running;
    void running.finally(() => {
      if (this.busy === running) this.busy = null;
    });
    return running;
  }

  private async work(replay: boolean): Promise<Outcome> {
    if (this.stopped) return 'abandoned';
    if (Date.now() < this.backoffUntil) return 'backoff';
    if (!this.initialized) return this.init();
    if (this.checkpointDue()) return this.writeCheckpoints(false);
    if (this.queue.length > 0) return this.writeBatch();
    if (replay && this.spool?.hasPending()) return this.replayBatch(this.spool);
    return 'idle';
  }

  private async init(): Promise<Outcome> {
    try {
      await this.store.init({
        ttlSeconds: this.settings.ttlSeconds,
        integrity: this.chain !== null,
        tenants: Boolean(this.settings.tenants),
        warn: (code, message) => this.report(new AuditLogStoreError(code, message, 0)),
      });
      // Without the holds loaded, new entries could miss a hold and expire: no writes until they are.
      await this.stamper?.start();
    } catch (error) {
      if (this.stopped) return 'abandoned';
      this.backOff();
      this.report(
        new AuditLogStoreError(
          'EAUDIT_STORE_INIT',
          `the store failed to start (${errorText(error)}); entries stay queued and it is retried.`,
          this.stats().queued,
          error,
        ),
      );
      return 'failed';
    }
    this.initialized = true;
    this.attempt = 0;
    // The chain's opening checkpoint, written by the next unit of work, before any entry: it names the newest checkpoint stored.
    if (this.checkpoints && storesCheckpoints(this.store)) {
      let previous: AuditCheckpoint | null = null;
      try {
        previous = await this.store.latestCheckpoint();
      } catch (error) {
        this.report(
          new AuditLogStoreError(
            'EAUDIT_CHECKPOINT',
            `reading the newest integrity checkpoint failed (${errorText(error)}); this chain's opening checkpoint names no previous chain.`,
            0,
            error,
          ),
        );
      }
      this.checkpoints.open(previous);
    }
    return 'progress';
  }

  private checkpointDue(): boolean {
    return this.checkpoints?.dueIn() === 0 && Date.now() >= this.checkpointRetryAt;
  }

  /**
   * Entries to write now: `batchSize`, or up to ten times that when a backlog has built up. A
   * store's cost is mostly per call (a round trip, an fsync'd append), so catching up in larger
   * calls is what keeps a saturated app from filling the queue (measured on the file store:
   * 14% of entries dropped at a fixed 100 per call under 50-connection load).
   */
  private batchLimit(): number {
    if (this.singles > 0) return 1;
    const { batchSize } = this.settings;
    return this.queue.length > 2 * batchSize ? Math.min(this.queue.length, 10 * batchSize) : batchSize;
  }

  private async writeBatch(): Promise<Outcome> {
    const batch = this.queue.splice(0, this.batchLimit());
    this.inFlight = batch;
    try {
      await this.store.insertMany(this.stamped(batch.map((item) => item.entry)));
    } catch (error) {
      if (this.inFlight !== batch) return 'abandoned';
      this.inFlight = null;
      this.counts.failed += batch.length;
      for (const item of batch) item.retry = true;
      if (isRejection(error) && batch.length === 1) {
        this.singles = Math.max(0, this.singles - 1);
        this.queuedBytes -= batch[0]!.bytes;
        this.reject(batch[0]!.entry, error);
        return 'progress';
      }
      this.queue.unshift(...batch);
      if (isRejection(error)) {
        this.singles = batch.length;
        return 'progress';
      }
      this.backOff();
      this.report(
        new AuditLogStoreError(
          'EAUDIT_STORE_WRITE',
          `writing ${batch.length} entries failed (${errorText(error)}); they stay queued and are retried.`,
          batch.length,
          error,
        ),
      );
      return 'failed';
    }
    // close() gave up on this batch and spooled it; its replay will meet these ids as duplicates.
    if (this.inFlight !== batch) return 'abandoned';
    this.inFlight = null;
    this.singles = Math.max(0, this.singles - batch.length);
    for (const item of batch) {
      this.queuedBytes -= item.bytes;
      if (item.retry) this.counts.retried++;
    }
    this.counts.written += batch.length;
    const written = batch.map((item) => item.entry);
    this.chain?.written(written);
    this.journal?.confirm(written);
    this.attempt = 0;
    return 'progress';
  }

  /** Stores the checkpoints due (all pending ones when `force`); a failure is retried on its own backoff, entries go on. */
  private async writeCheckpoints(force: boolean): Promise<Outcome> {
    const chain = this.checkpoints;
    if (!chain || !storesCheckpoints(this.store)) return 'idle';
    let due = chain.take(force);
    if (due.length === 0) return 'idle';
    try {
      due = [...(await this.openings(due)), ...due];
      await this.store.insertCheckpoints(due);
    } catch (error) {
      if (this.stopped) return 'abandoned';
      const { retryMinDelayMs, retryMaxDelayMs } = this.settings;
      this.checkpointRetryAt = Date.now() + Math.min(retryMaxDelayMs, retryMinDelayMs * 2 ** Math.min(this.checkpointAttempt++, 30));
      this.report(
        new AuditLogStoreError(
          'EAUDIT_CHECKPOINT',
          `writing ${due.length} integrity checkpoint(s) failed (${errorText(error)}); retried with backoff while entries go on being written. Entries after the last stored checkpoint are not yet protected by one.`,
          0,
          error,
        ),
      );
      return 'progress';
    }
    chain.committed(due);
    this.checkpointAttempt = 0;
    this.checkpointRetryAt = 0;
    return 'progress';
  }

  /** Opening checkpoints for replayed chains whose writer never stored one (it stopped before the store was up). */
  private async openings(due: AuditCheckpoint[]): Promise<AuditCheckpoint[]> {
    const chain = this.checkpoints;
    if (!chain || !storesCheckpoints(this.store)) return [];
    return this.missingOpenings(chain.unopened(due));
  }

  /**
   * Before replayed entries of another writer's chain are stored, that chain's opening is: a
   * replaying process that dies before its next checkpoint (a crash loop in journal mode) would
   * otherwise leave entries no opening vouches for, which verify reads as inserted. A store that
   * cannot take it is reported and the entries are written all the same (openings() tries again).
   */
  private async openReplayedChains(entries: readonly AuditEntry[]): Promise<void> {
    const chain = this.checkpoints;
    if (!chain || !storesCheckpoints(this.store)) return;
    const ids = chain.unopenedIds(entries.map((entry) => (entry as { chain?: unknown }).chain).filter((id): id is string => typeof id === 'string'));
    if (ids.length === 0) return;
    try {
      const openings = await this.missingOpenings(ids);
      if (openings.length > 0) await this.store.insertCheckpoints(openings);
      chain.committed(openings);
    } catch (error) {
      this.report(
        new AuditLogStoreError(
          'EAUDIT_CHECKPOINT',
          `writing the opening checkpoint of a replayed chain failed (${errorText(error)}); its entries are written, and the opening is tried again with the next checkpoints.`,
          0,
          error,
        ),
      );
    }
  }

  /** Opening checkpoints for these chains, where the store has none (those it has are noted as opened). */
  private async missingOpenings(ids: readonly string[]): Promise<AuditCheckpoint[]> {
    const chain = this.checkpoints;
    if (!chain || !storesCheckpoints(this.store)) return [];
    const out: AuditCheckpoint[] = [];
    for (const id of ids) {
      const [first] = await this.store.findCheckpoints({ after: `${id}:`, limit: 1 });
      if (first?.chain === id && first.seq === 0) chain.markOpened(id);
      else out.push(chain.openFor(id));
    }
    return out;
  }

  private async replayBatch(spool: Spool): Promise<Outcome> {
    let entries: AuditEntry[];
    try {
      entries = await spool.next(this.singles > 0 ? 1 : this.settings.batchSize);
    } catch (error) {
      if (this.stopped) return 'abandoned';
      this.backOff();
      this.report(new AuditLogStoreError('EAUDIT_SPOOL_REPLAY', `reading the spool failed (${errorText(error)}); it is retried.`, 0, error));
      return 'failed';
    }
    const unreadable = spool.takeUnreadable();
    if (unreadable > 0) {
      this.counts.dropped += unreadable;
      this.report(
        new AuditLogStoreError(
          'EAUDIT_DROPPED',
          `${unreadable} spooled entries could not be read back (a line torn by a crash, malformed, or not written by this package; see EAUDIT_SPOOL_CORRUPT) and were dropped.`,
          unreadable,
        ),
      );
    }
    if (entries.length === 0) return 'progress';
    await this.openReplayedChains(entries);
    if (this.stopped) return 'abandoned';
    try {
      await this.store.insertMany(this.stamped(entries));
    } catch (error) {
      if (this.stopped) return 'abandoned';
      this.counts.failed += entries.length;
      if (isRejection(error)) {
        if (entries.length > 1) {
          this.singles = entries.length;
          return 'progress';
        }
        this.singles = Math.max(0, this.singles - 1);
        await spool.ack(1);
        this.reject(entries[0]!, error);
        return 'progress';
      }
      spool.release();
      this.backOff();
      this.report(
        new AuditLogStoreError(
          'EAUDIT_SPOOL_REPLAY',
          `replaying ${entries.length} spooled entries failed (${errorText(error)}); they stay spooled and are retried.`,
          entries.length,
          error,
        ),
      );
      return 'failed';
    }
    // After close() the segment stays on disk and is replayed again on the next start.
    if (this.stopped) return 'abandoned';
    await spool.ack(entries.length);
    this.singles = Math.max(0, this.singles - entries.length);
    this.counts.replayed += entries.length;
    this.counts.written += entries.length;
    this.chain?.written(entries);
    this.attempt = 0;
    return 'progress';
  }

  /** The background loop: drains, then sleeps until the next batch is due or the backoff ends. */
  private async pump(): Promise<void> {
    if (this.pumping || this.closing) return;
    this.pumping = true;
    try {
      // A partial batch waits to fill; a checkpoint that is due does not wait with it.
      await this.drain({ deadline: Infinity, replay: true, done: () => this.waitingToFill() > 0 && !this.checkpointDue() });
    } finally {
      this.pumping = false;
      this.schedule();
    }
  }

  private schedule(): void {
    if (this.closing || this.pumping || this.timer) return;
    const pending = this.queue.length > 0 || this.spool?.hasPending() || !this.initialized;
    // A checkpoint due later (checkpointIntervalMs) wakes the writer then, not before.
    const dueIn = this.initialized ? (this.checkpoints?.dueIn() ?? null) : null;
    const checkpointIn = dueIn === null ? null : Math.max(dueIn, this.checkpointRetryAt - Date.now());
    if (!pending && checkpointIn === null) return;
    const backoff = this.backoffUntil - Date.now();
    let due = pending ? Math.max(backoff, this.waitingToFill(), 0) : Infinity;
    if (checkpointIn !== null) due = Math.min(due, Math.max(checkpointIn, backoff, 0));
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.pump();
    }, due);
    // Queued entries must not keep the process alive; close() is how an app waits for them.
    this.timer.unref();
  }

  /** How long the queue's partial batch may still wait to fill (ms); 0 when it is due or full. */
  private waitingToFill(): number {
    const oldest = this.queue[0];
    if (!oldest || !this.initialized || this.queue.length >= this.settings.batchSize) return 0;
    return Math.max(0, oldest.at + this.settings.flushIntervalMs - Date.now());
  }

  /** Stamped at write time, not at push: a hold placed while entries wait in the queue or the spool still covers them. */
  private stamped(entries: AuditEntry[]): AuditEntry[] {
    for (let i = 0; i < entries.length; i++) {
      // A transform may return a frozen entry: stamp (and let the store stamp) a copy instead.
      if (!Object.isExtensible(entries[i])) entries[i] = { ...entries[i]! };
      const entry = entries[i]!;
      if (!this.stamper) continue;
      try {
        this.stamper.stamp(entry);
      } catch (error) {
        // Not a store failure: retrying the batch would not help. The entry goes as it is (the store gives it the default ttl).
        this.report(
          new AuditLogStoreError(
            'EAUDIT_RETENTION_STAMP',
            `the expiry of entry ${entry._id} could not be set (${errorText(error)}); it was written with the default ttl.`,
            1,
            error,
          ),
        );
      }
    }
    return entries;
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private backOff(): void {
    const { retryMinDelayMs, retryMaxDelayMs } = this.settings;
    const ceiling = Math.min(retryMaxDelayMs, retryMinDelayMs * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    // Equal jitter: the delay still doubles, and many processes retrying one recovered
    // database spread out instead of stampeding it.
    this.backoffUntil = Date.now() + ceiling / 2 + Math.random() * (ceiling / 2);
  }

  private reject(entry: AuditEntry, error: unknown): void {
    this.counts.dropped++;
    this.journal?.confirm([entry]);
    this.chain?.dropped([entry]);
    this.report(
      new AuditLogStoreError(
        'EAUDIT_DROPPED',
        `the store rejected entry ${entry._id} (${errorText(error)}); it can never be stored, so it was dropped.`,
        1,
        error,
      ),
    );
  }

  private overflow(items: Queued[], why: string, first: boolean): void {
    if (this.spool) {
      const entries = items.map((item) => item.entry);
      if (first ? this.spool.prepend(entries) : this.spool.append(entries)) {
        this.journal?.confirm(entries);
        this.counts.spooled += items.length;
        this.schedule();
        return;
      }
    }
    this.counts.dropped += items.length;
    this.chain?.dropped(items.map((item) => item.entry));
    const where = this.spool ? 'and the spool could not be written' : 'and no spoolDir is configured';
    this.report(
      new AuditLogStoreError(
        'EAUDIT_DROPPED',
        `${items.length} entries were dropped: ${why} ${where}. Raise maxQueueEntries/maxQueueBytes or set spoolDir.`,
        items.length,
      ),
    );
  }
}
