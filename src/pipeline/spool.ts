/**
 * The on-disk spool: where entries go when the in-memory queue is full (the store is down or
 * slow) or when close() runs out of time. Append-only NDJSON segment files under one
 * directory, replayed oldest first once the store is back, and on the next start if the
 * process died.
 *
 * Order is carried by the file names: `spool-<key>-<pid>.ndjson`, where `key` is a 16-digit
 * number that only grows for appends (milliseconds × 1000 + a counter, never below the last
 * key, so a clock stepping back cannot reorder segments). `prepend()` takes a key below the
 * oldest pending segment: close() uses it for the entries still in memory, which are older
 * than anything spooled. A segment is deleted only after every entry in it was written;
 * replaying a segment twice (a crash between the write and the delete) is harmless because
 * entry ids are fixed and stores count a duplicate id as written.
 *
 * Never throws: a failure is reported through `onError` and the call answers false (append)
 * or rejects (next, for the writer to back off and try again).
 */
import fs from 'fs';
import path from 'path';
import type { AuditEntry } from '../entry';

/** A segment is sealed and a new one started past this size; replay holds one segment in memory. */
const SEGMENT_BYTES = 1024 * 1024;
const NAME = /^spool-(\d{16})-\d+\.ndjson$/;

export interface Spool {
  /** True while any spooled entry is waiting to be replayed. */
  hasPending(): boolean;
  /** Position of the oldest pending segment, or null when none is pending. */
  head(): number | null;
  /** Position of the newest segment: everything appended so far is at or before it. */
  tail(): number;
  /** Appends entries after everything spooled, synchronously; false when the disk refused them. */
  append(entries: AuditEntry[]): boolean;
  /** Writes entries before everything spooled, synchronously; false when the disk refused them. */
  prepend(entries: AuditEntry[]): boolean;
  /** The oldest entries not yet acknowledged, up to `max`; empty when nothing is pending. */
  next(max: number): Promise<AuditEntry[]>;
  /** The first `count` entries last returned by next() were written: forget them. */
  ack(count: number): Promise<void>;
  /** Frees the segment next() holds in memory (after a failed write); progress is kept. */
  release(): void;
  /** Entries found unreadable (a torn last line after a crash) since the last call. */
  takeUnreadable(): number;
  /** Seals the segment being appended to. Later appends start a new one. */
  close(): Promise<void>;
}

interface Segment {
  key: number;
  file: string;
  /** Entries of this segment already written to the store (kept across release()). */
  consumed: number;
}

function revive(line: string): AuditEntry {
  const entry = JSON.parse(line) as AuditEntry & { date: string | Date };
  if (entry === null || typeof entry !== 'object' || typeof entry._id !== 'string') throw new SyntaxError('not an entry');
  entry.date = new Date(entry.date);
  return entry;
}

function serialize(entries: AuditEntry[]): string {
  return entries.map((entry) => JSON.stringify(entry)).join('\n') + '\n';
}

export class FileSpool implements Spool {
  private segments: Segment[] = [];
  private opened = false;
  private current: { segment: Segment; fd: number; bytes: number } | null = null;
  private reading: { segment: Segment; entries: AuditEntry[] } | null = null;
  private lastKey = 0;
  private unreadable = 0;
  /** Segments whose unreadable lines were already counted. */
  private readonly reportedBad = new Set<string>();

  constructor(private readonly dir: string, private readonly onError: (error: Error) => void) {
    // A directory that cannot be created now is reported, not thrown: the app keeps serving,
    // entries stay in memory, and every later append tries again.
    this.open();
  }

  private open(): boolean {
    if (this.opened) return true;
    try {
      fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      // Segments left by a process that died are replayed first, in the order they were written.
      const found: Segment[] = [];
      for (const name of fs.readdirSync(this.dir)) {
        const match = NAME.exec(name);
        if (match) found.push({ key: Number(match[1]), file: path.join(this.dir, name), consumed: 0 });
      }
      found.sort((a, b) => a.key - b.key);
      this.segments = found;
      this.lastKey = Math.max(0, ...found.map((segment) => segment.key));
      this.opened = true;
      return true;
    } catch (error) {
      this.onError(error as Error);
      return false;
    }
  }

  hasPending(): boolean {
    return this.segments.length > 0;
  }

  head(): number | null {
    return this.segments[0]?.key ?? null;
  }

  tail(): number {
    return this.lastKey;
  }

  append(entries: AuditEntry[]): boolean {
    if (entries.length === 0) return true;
    if (!this.open()) return false;
    try {
      const text = serialize(entries);
      if (!this.current || this.current.bytes >= SEGMENT_BYTES) this.rotate();
      const current = this.current!;
      fs.writeSync(current.fd, text);
      current.bytes += Buffer.byteLength(text);
      return true;
    } catch (error) {
      // The segment may now end in a torn line; start a fresh one next time.
      this.seal();
      this.onError(error as Error);
      return false;
    }
  }

  prepend(entries: AuditEntry[]): boolean {
    if (entries.length === 0) return true;
    if (!this.open()) return false;
    const first = this.segments[0];
    if (!first) return this.append(entries);
    const segment: Segment = { key: first.key - 1, file: '', consumed: 0 };
    segment.file = path.join(this.dir, this.nameOf(segment.key));
    try {
      // Written whole, then renamed into place: a crash leaves either all of it or none.
      const temporary = `${segment.file}.tmp`;
      const fd = fs.openSync(temporary, 'w', 0o600);
      try {
        fs.writeSync(fd, serialize(entries));
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      fs.renameSync(temporary, segment.file);
    } catch (error) {
      this.onError(error as Error);
      return false;
    }
    this.segments.unshift(segment);
    // next() must start again from the new oldest segment.
    this.reading = null;
    return true;
  }

  async next(max: number): Promise<AuditEntry[]> {
    while (this.segments.length > 0) {
      const segment = this.segments[0]!;
      if (this.reading?.segment !== segment) {
        // Replay reads a stable file: appends from now on go to a new segment.
        if (this.current?.segment === segment) this.seal();
        this.reading = { segment, entries: await this.load(segment) };
      }
      const { entries } = this.reading;
      if (segment.consumed < entries.length) return entries.slice(segment.consumed, segment.consumed + max);
      await this.finish(segment);
    }
    return [];
  }

  async ack(count: number): Promise<void> {
    const reading = this.reading;
    if (!reading || reading.segment !== this.segments[0]) return;
    reading.segment.consumed += count;
    if (reading.segment.consumed >= reading.entries.length) await this.finish(reading.segment);
  }

  release(): void {
    this.reading = null;
  }

  takeUnreadable(): number {
    const count = this.unreadable;
    this.unreadable = 0;
    return count;
  }

  async close(): Promise<void> {
    this.seal();
    this.reading = null;
  }

  private async load(segment: Segment): Promise<AuditEntry[]> {
    let text: string;
    try {
      text = await fs.promises.readFile(segment.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []; // removed by hand: nothing to replay
      this.onError(error as Error);
      throw error;
    }
    const entries: AuditEntry[] = [];
    let bad = 0;
    for (const line of text.split('\n')) {
      if (line === '') continue;
      try {
        entries.push(revive(line));
      } catch {
        bad++; // a torn last line from a crash mid-append: the rest of the segment is still good
      }
    }
    // Counted once per segment, however often it is loaded again after a failed write.
    if (bad > 0 && segment.consumed === 0 && !this.reportedBad.has(segment.file)) {
      this.reportedBad.add(segment.file);
      this.unreadable += bad;
      this.onError(new Error(`${bad} unreadable line(s) in ${segment.file} were skipped`));
    }
    return entries;
  }

  private async finish(segment: Segment): Promise<void> {
    if (this.segments[0] === segment) this.segments.shift();
    if (this.reading?.segment === segment) this.reading = null;
    this.reportedBad.delete(segment.file);
    try {
      await fs.promises.rm(segment.file, { force: true });
    } catch (error) {
      // Left on disk, it is replayed again on the next start: duplicates are skipped by id.
      this.onError(error as Error);
    }
  }

  private nameOf(key: number): string {
    return `spool-${String(key).padStart(16, '0')}-${process.pid}.ndjson`;
  }

  private rotate(): void {
    this.seal();
    const key = Math.max(Date.now() * 1000, this.lastKey + 1);
    const segment: Segment = { key, file: path.join(this.dir, this.nameOf(key)), consumed: 0 };
    const fd = fs.openSync(segment.file, 'a', 0o600);
    this.lastKey = key;
    this.current = { segment, fd, bytes: 0 };
    this.segments.push(segment);
  }

  private seal(): void {
    const current = this.current;
    if (!current) return;
    this.current = null;
    try {
      fs.fsyncSync(current.fd);
    } catch (error) {
      this.onError(error as Error);
    }
    try {
      fs.closeSync(current.fd);
    } catch {
      // already closed
    }
  }
}
