/**
 * The journal of `durability: 'journal'`: every entry is appended here, with a synchronous
 * write, when it is recorded (for a request: inside `res.end()`, before the response's last
 * bytes go to the socket), and forgotten once the store confirmed it, the spool took it, or
 * the store rejected it for good. The write reaches the kernel before end() goes on, so a
 * process killed at any moment (kill -9, the OOM killer) leaves every entry of an answered
 * request on disk. Not fsync'd: that is per request, and costs milliseconds on most disks; a
 * power loss can still take what the kernel had not written out.
 *
 * Files: `journal-<key>-<owner>.ndjson` in spoolDir, lines in the spool's format. A file is
 * deleted once it is sealed (past JOURNAL_BYTES, or at close) and all its entries were
 * confirmed. What a process that died left is adopted at the next start by the spool of
 * whichever process starts (spool-owner.ts) and replayed like a segment: entry ids are fixed
 * and stores count a duplicate id as written, so an entry the store already had is not written
 * twice.
 *
 * Never throws: a failure is reported through `onError`, and the entry is still queued as in
 * the default mode.
 */
import fs from 'fs';
import path from 'path';
import type { AuditEntry } from '../entry';
import { AuditLogStoreError } from '../errors';
import { mark } from './spool';
import type { SpoolOwner } from './spool-owner';

/** A file is sealed past this size; it is deleted when all its entries are confirmed. Small, so a crash replays little. */
const JOURNAL_BYTES = 256 * 1024;
const NO_FOLLOW = fs.constants.O_NOFOLLOW ?? 0;
const CREATE_NEW = fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT | fs.constants.O_EXCL | NO_FOLLOW;

interface JournalFile {
  file: string;
  fd: number | null;
  bytes: number;
  /** Entries appended and not yet confirmed. */
  open: number;
}

export class Journal {
  private current: JournalFile | null = null;
  /** Entry id → the file that holds it, until the entry is confirmed. */
  private readonly pending = new Map<string, JournalFile>();
  private lastKey = 0;
  private closed = false;

  constructor(
    private readonly dir: string,
    private readonly owner: SpoolOwner,
    /** The spool's directory checks passed and the owner's lock is written. */
    private readonly ready: () => boolean,
    private readonly onError: (error: Error) => void,
  ) {}

  /** Appends the entry, synchronously; false when it could not be journaled (reported). */
  append(entry: AuditEntry): boolean {
    if (this.closed || !this.ready()) return false;
    try {
      if (!this.current || this.current.bytes >= JOURNAL_BYTES) this.rotate();
      const current = this.current!;
      const line = `${mark(entry)}\n`;
      fs.writeSync(current.fd!, line);
      current.bytes += line.length;
      current.open++;
      this.pending.set(entry._id, current);
      return true;
    } catch (error) {
      // Possibly a torn line now: the next append starts a new file (a torn line is skipped on replay, reported).
      if (this.current) this.seal(this.current);
      this.current = null;
      this.onError(
        new AuditLogStoreError(
          'EAUDIT_JOURNAL',
          `journaling entry ${entry._id} failed (${(error as Error).message}); it is still queued, but a crash before it is written would lose it.`,
          1,
          error,
        ),
      );
      return false;
    }
  }

  /** These entries no longer need the journal: stored, spooled or rejected for good. */
  confirm(entries: readonly AuditEntry[]): void {
    if (this.pending.size === 0) return;
    for (const entry of entries) {
      const file = this.pending.get(entry._id);
      if (!file) continue;
      this.pending.delete(entry._id);
      file.open--;
      if (file.open === 0 && file.fd === null) this.remove(file);
    }
  }

  /** Seals the current file; files whose entries were all confirmed are deleted, the rest stay for the next start to replay. */
  close(): void {
    this.closed = true;
    if (this.current) {
      this.seal(this.current);
      if (this.current.open === 0) this.remove(this.current);
      this.current = null;
    }
  }

  private rotate(): void {
    const previous = this.current;
    if (previous) {
      this.seal(previous);
      if (previous.open === 0) this.remove(previous);
      this.current = null;
    }
    this.owner.claim();
    const key = Math.max(Date.now() * 1000, this.lastKey + 1);
    this.lastKey = key;
    const file = path.join(this.dir, this.owner.fileName('journal', key));
    this.current = { file, fd: fs.openSync(file, CREATE_NEW, 0o600), bytes: 0, open: 0 };
  }

  private seal(file: JournalFile): void {
    if (file.fd === null) return;
    try {
      fs.closeSync(file.fd);
    } catch {
      // already closed
    }
    file.fd = null;
  }

  private remove(file: JournalFile): void {
    try {
      fs.rmSync(file.file, { force: true });
    } catch (error) {
      // Left on disk, it is replayed on a later start: its entries are stored already, and skipped by id.
      this.onError(error as Error);
    }
  }
}
