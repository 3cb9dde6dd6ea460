/**
 * The writer takes entries off the request path: `push()` only queues, and batches are
 * written by timers. A failed batch goes back to the head of the queue and is retried with
 * exponential backoff and jitter; ids are fixed before the first try, so a retry of a batch
 * the store half-wrote cannot duplicate anything (stores treat a duplicate id as written).
 * When the queue is full, entries overflow to the spool (when configured) or are dropped,
 * and every drop is counted and reported: nothing is lost silently.
 */
import type { AuditEntry } from '../entry';
import { AuditLogStoreError } from '../errors';
import type { AuditStore } from '../stores/types';
import type { Spool } from './spool';

export interface WriterSettings {
  ttlSeconds: number | null;
  batchSize: number;
  flushIntervalMs: number;
  maxQueueEntries: number;
  maxQueueBytes: number;
  retryMinDelayMs: number;
  retryMaxDelayMs: number;
}

export interface AuditStats {
  /** Entries handed to the writer since start. */
  recorded: number;
  /** Entries the store confirmed. */
  written: number;
  /** Entries in write attempts that failed (each retry of an entry counts again). */
  failed: number;
  /** Entries written again after a failed attempt. */
  retried: number;
  /** Entries moved to the on-disk spool because the queue was full or close() ran out of time. */
  spooled: number;
  /** Spooled entries read back and written to the store. */
  replayed: number;
  /** Entries lost: the queue was full with no spool, the spool failed, or they came after close(). */
  dropped: number;
  /** Entries waiting in memory now. */
  queued: number;
  /** Their estimated size in bytes. */
  queuedBytes: number;
}

interface Queued {
  entry: AuditEntry;
  bytes: number;
  /** Set when this entry already failed once, so its eventual write counts as a retry. */
  retry?: boolean;
}

type Report = (error: AuditLogStoreError) => void;

export class Writer {
  private readonly queue: Queued[] = [];
  private queuedBytes = 0;
  private readonly counts = { recorded: 0, written: 0, failed: 0, retried: 0, spooled: 0, replayed: 0, dropped: 0 };
  private timer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  private writing: Promise<void> | null = null;
  private backoffUntil = 0;
  private attempt = 0;
  private initialized = false;
  private initializing: Promise<void> | null = null;
  private closing: Promise<void> | null = null;
  private readonly idleWaiters: Array<() => void> = [];

  constructor(
    private readonly store: AuditStore,
    private readonly settings: WriterSettings,
    private readonly report: Report,
    private readonly spool: Spool | null = null,
  ) {
    void this.ensureInit();
  }

  /** Queues one entry; never throws, never waits. */
  push(entry: AuditEntry, bytes: number): void {
    this.counts.recorded++;
    if (this.closing) {
      this.counts.dropped++;
      this.report(new AuditLogStoreError('EAUDIT_CLOSED', 'an entry was recorded after close(); it was dropped. Close the audit log after the server stops accepting requests.', 1));
      return;
    }
    // Once anything is spooled, newer entries follow it there, so the store sees them in order.
    if (this.spool?.hasPending() || this.queue.length >= this.settings.maxQueueEntries || this.queuedBytes + bytes > this.settings.maxQueueBytes) {
      this.overflow([{ entry, bytes }]);
      return;
    }
    this.queue.push({ entry, bytes });
    this.queuedBytes += bytes;
    this.schedule();
  }

  stats(): AuditStats {
    return { ...this.counts, queued: this.queue.length, queuedBytes: this.queuedBytes };
  }

  /** Resolves once everything queued now has been written or the writer gave up for now. */
  async flush(): Promise<void> {
    await this.drain(Infinity);
  }

  /**
   * Writes what it can before `deadlineMs` from now, spools (or counts as dropped) the rest,
   * then closes the store. Calling it again returns the same promise.
   */
  close(deadlineMs = 10_000): Promise<void> {
    this.closing ??= this.shutdown(Date.now() + deadlineMs);
    return this.closing;
  }

  private async shutdown(deadline: number): Promise<void> {
    this.clearTimers();
    await this.drain(deadline);
    if (this.queue.length > 0) {
      const left = this.queue.splice(0, this.queue.length);
      this.queuedBytes = 0;
      this.overflow(left, 'close() reached its deadline');
    }
    await this.spool?.close();
    try {
      await this.store.close();
    } catch (error) {
      this.report(new AuditLogStoreError('EAUDIT_STORE_CLOSE', `the store failed to close: ${(error as Error)?.message}`, 0, error));
    }
  }

  /** Writes batches until the queue is empty, the deadline passes, or (with no deadline) a write fails. */
  private async drain(deadline: number): Promise<void> {
    while (Date.now() < deadline) {
      if (this.writing) {
        await this.writing;
        continue;
      }
      if (!(await this.ensureInit())) {
        if (deadline === Infinity) return;
        await this.sleepUntilRetry(deadline);
        continue;
      }
      if (this.queue.length === 0 && this.spool?.hasPending()) {
        await this.replaySpool();
        if (this.spool.hasPending() && deadline === Infinity) return;
        continue;
      }
      if (this.queue.length === 0) return;
      if (Date.now() < this.backoffUntil) {
        if (deadline === Infinity) return;
        await this.sleepUntilRetry(deadline);
        continue;
      }
      const ok = await this.writeBatch();
      if (!ok && deadline === Infinity) return;
    }
  }

  private sleepUntilRetry(deadline: number): Promise<void> {
    const wait = Math.max(1, Math.min(this.backoffUntil, deadline) - Date.now());
    return new Promise((resolve) => setTimeout(resolve, wait));
  }

  private ensureInit(): Promise<boolean> {
    if (this.initialized) return Promise.resolve(true);
    if (Date.now() < this.backoffUntil) return Promise.resolve(false);
    this.initializing ??= this.store
      .init({ ttlSeconds: this.settings.ttlSeconds, warn: (code, message) => this.report(new AuditLogStoreError(code, message, 0)) })
      .then(() => {
        this.initialized = true;
        this.attempt = 0;
        this.schedule();
      })
      .catch((error: unknown) => {
        this.backOff();
        this.report(new AuditLogStoreError('EAUDIT_STORE_INIT', `the store failed to start (${(error as Error)?.message ?? error}); entries stay queued and it is retried.`, this.queue.length, error));
      })
      .finally(() => {
        this.initializing = null;
      });
    return this.initializing.then(() => this.initialized);
  }

  private schedule(): void {
    if (this.closing || this.writing || this.queue.length === 0 && !this.spool?.hasPending()) return;
    const wait = this.backoffUntil - Date.now();
    if (wait > 0 || this.queue.length < this.settings.batchSize) {
      if (this.timer) return;
      this.timer = setTimeout(() => {
        this.timer = null;
        void this.drain(Infinity).then(() => this.schedule());
      }, Math.max(wait, this.settings.flushIntervalMs));
      this.timer.unref();
      return;
    }
    if (this.immediate) return;
    this.immediate = setImmediate(() => {
      this.immediate = null;
      void this.drain(Infinity).then(() => this.schedule());
    });
  }

  private clearTimers(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = null;
    this.immediate = null;
  }

  private backOff(): void {
    const { retryMinDelayMs, retryMaxDelayMs } = this.settings;
    const ceiling = Math.min(retryMaxDelayMs, retryMinDelayMs * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    // Full jitter: many processes retrying one recovered database do not stampede it.
    this.backoffUntil = Date.now() + ceiling / 2 + Math.random() * (ceiling / 2);
  }

  private async writeBatch(): Promise<boolean> {
    const batch = this.queue.splice(0, this.settings.batchSize);
    const bytes = batch.reduce((sum, item) => sum + item.bytes, 0);
    this.queuedBytes -= bytes;
    let ok = false;
    this.writing = (async () => {
      try {
        await this.store.insertMany(batch.map((item) => item.entry));
        ok = true;
        this.attempt = 0;
        this.counts.written += batch.length;
        for (const item of batch) if (item.retry) this.counts.retried++;
      } catch (error) {
        this.counts.failed += batch.length;
        for (const item of batch) item.retry = true;
        this.queue.unshift(...batch);
        this.queuedBytes += bytes;
        this.backOff();
        this.report(new AuditLogStoreError('EAUDIT_STORE_WRITE', `writing ${batch.length} entries failed (${(error as Error)?.message ?? error}); they stay queued and are retried.`, batch.length, error));
      }
    })();
    await this.writing;
    this.writing = null;
    return ok;
  }

  private async replaySpool(): Promise<void> {
    const spool = this.spool;
    if (!spool) return;
    let ok = true;
    this.writing = (async () => {
      try {
        const replayed = await spool.replay((entries) => this.store.insertMany(entries), this.settings.batchSize);
        this.counts.replayed += replayed;
        this.counts.written += replayed;
        this.attempt = 0;
      } catch (error) {
        ok = false;
        this.backOff();
        this.report(new AuditLogStoreError('EAUDIT_SPOOL_REPLAY', `replaying the spool failed (${(error as Error)?.message ?? error}); it is retried.`, 0, error));
      }
    })();
    await this.writing;
    this.writing = null;
    if (ok) this.schedule();
  }

  private overflow(items: Queued[], why = 'the queue is full'): void {
    if (this.spool) {
      const spooled = this.spool.append(items.map((item) => item.entry));
      if (spooled) {
        this.counts.spooled += items.length;
        this.schedule();
        return;
      }
    }
    this.counts.dropped += items.length;
    const where = this.spool ? 'and the spool could not be written' : 'and no spoolDir is configured';
    this.report(new AuditLogStoreError('EAUDIT_DROPPED', `${items.length} entries were dropped: ${why} ${where}. Raise maxQueueEntries/maxQueueBytes or set spoolDir.`, items.length));
  }
}
