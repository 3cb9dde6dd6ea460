/**
 * The on-disk spool: where entries go when the in-memory queue is full (the store is down or
 * slow) or when close() runs out of time. Append-only NDJSON segment files, replayed oldest
 * first once the store is back, and on the next start if the process died. A segment is
 * deleted only after every entry in it was written; replaying a segment twice is harmless
 * because entry ids are fixed and stores count a duplicate id as written.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { AuditEntry } from '../entry';

const SEGMENT_BYTES = 8 * 1024 * 1024;
const SEGMENT = /^spool-\d{13}-\d+-\d+\.ndjson$/;

export interface Spool {
  /** True while any spooled entry is waiting to be replayed. */
  hasPending(): boolean;
  /** Appends entries synchronously; false when the disk refused them. */
  append(entries: AuditEntry[]): boolean;
  /** Writes every spooled entry through `write`, oldest first; resolves to how many. */
  replay(write: (entries: AuditEntry[]) => Promise<void>, batchSize: number): Promise<number>;
  close(): Promise<void>;
}

function revive(line: string): AuditEntry {
  const entry = JSON.parse(line) as AuditEntry & { date: string | Date };
  entry.date = new Date(entry.date);
  return entry;
}

export class FileSpool implements Spool {
  private readonly segments: string[];
  private current: { file: string; fd: number; bytes: number } | null = null;
  private sequence = 0;

  constructor(private readonly dir: string, private readonly onError: (error: Error) => void) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    // Segments left by a process that died are replayed first, in the order they were written.
    this.segments = fs.readdirSync(dir).filter((name) => SEGMENT.test(name)).sort().map((name) => path.join(dir, name));
  }

  hasPending(): boolean {
    return this.segments.length > 0;
  }

  append(entries: AuditEntry[]): boolean {
    try {
      const text = entries.map((entry) => JSON.stringify(entry)).join('\n') + '\n';
      if (!this.current || this.current.bytes > SEGMENT_BYTES) this.rotate();
      const current = this.current!;
      fs.writeSync(current.fd, text);
      current.bytes += Buffer.byteLength(text);
      return true;
    } catch (error) {
      this.onError(error as Error);
      return false;
    }
  }

  async replay(write: (entries: AuditEntry[]) => Promise<void>, batchSize: number): Promise<number> {
    let replayed = 0;
    while (this.segments.length > 0) {
      const file = this.segments[0]!;
      if (this.current?.file === file) this.seal();
      const lines = (await fs.promises.readFile(file, 'utf8')).split('\n').filter((line) => line !== '');
      const entries: AuditEntry[] = [];
      for (const line of lines) {
        try {
          entries.push(revive(line));
        } catch {
          // A torn last line from a crash mid-append: the rest of the segment is still good.
        }
      }
      for (let i = 0; i < entries.length; i += batchSize) {
        await write(entries.slice(i, i + batchSize));
      }
      replayed += entries.length;
      await fs.promises.rm(file, { force: true });
      this.segments.shift();
    }
    return replayed;
  }

  async close(): Promise<void> {
    this.seal();
  }

  private rotate(): void {
    this.seal();
    const name = `spool-${Date.now()}-${process.pid}-${this.sequence++}.ndjson`;
    const file = path.join(this.dir, name);
    const fd = fs.openSync(file, 'a', 0o600);
    this.current = { file, fd, bytes: 0 };
    this.segments.push(file);
  }

  private seal(): void {
    if (!this.current) return;
    try {
      fs.fsyncSync(this.current.fd);
      fs.closeSync(this.current.fd);
    } catch (error) {
      this.onError(error as Error);
    }
    this.current = null;
  }
}
