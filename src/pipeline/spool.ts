/**
 * The on-disk spool: where entries go when the in-memory queue is full (the store is down or
 * slow) or when close() runs out of time. Append-only NDJSON segment files under one
 * directory, replayed oldest first once the store is back, and on the next start if the
 * process died.
 *
 * Order is carried by the file names: `spool-<key>-<owner>.ndjson`, where `key` is a 16-digit
 * number that only grows for appends (milliseconds × 1000 + a counter, never below the last
 * key, so a clock stepping back cannot reorder segments). `prepend()` takes a key below the
 * oldest pending segment: close() uses it for the entries still in memory, which are older
 * than anything spooled. A segment is deleted only after every entry in it was written;
 * replaying a segment twice (a crash between the write and the delete) is harmless because
 * entry ids are fixed and stores count a duplicate id as written.
 *
 * Several processes may share the directory: each writes and replays only the files named with
 * its owner tag, and at start adopts those of owners that are gone (spool-owner.ts), the
 * journals of dead processes included (journal.ts): they become segments to replay.
 *
 * Trust: a spooled line is replayed into the audit log as if it had been recorded, so only this
 * process's user may be able to put one there. The directory must be owned by that user and
 * writable by no one else (else spooling is refused, `EAUDIT_SPOOL_UNSAFE`); segments are opened
 * without following symlinks and must be regular files owned by that user and writable by no
 * one else (else skipped and left in place, `EAUDIT_SPOOL_UNSAFE`); every line carries a format
 * marker and a checksum, and must hold an entry's shape (else not replayed, `EAUDIT_SPOOL_CORRUPT`).
 *
 * Never throws: a failure is reported through `onError` and the call answers false (append)
 * or rejects (next, for the writer to back off and try again).
 */
import fs from 'fs';
import path from 'path';
import { crc32 } from 'zlib';
import { FIELDS, isFieldName, type AuditEntry } from '../entry';
import { AuditLogStoreError } from '../errors';
import { parseSpoolFile, SpoolOwner, type SpoolFile } from './spool-owner';

/** A segment is sealed and a new one started past this size; replay holds one segment in memory. */
const SEGMENT_BYTES = 1024 * 1024;
/**
 * One line as written since the format marker: `{"v":1,"crc":"<crc32 of the entry's JSON, hex>","entry":<the entry's JSON>}`.
 * The `s` flag: JSON.stringify leaves U+2028 and U+2029 raw, and `.` alone would stop at them.
 */
const MARKED = /^\{"v":1,"crc":"([0-9a-f]{8})","entry":(.*)\}$/s;
const OBJECT_ID = /^[0-9a-f]{24}$/i;
/** How many bad lines one report names; the count covers them all. */
const LINES_NAMED = 5;
// Not defined on Windows, where a symlink needs privileges to create and modes mean little.
const NO_FOLLOW = fs.constants.O_NOFOLLOW ?? 0;
/** A FIFO named like a segment would block a plain open forever; with this the open returns and fstat tells. */
const NON_BLOCK = fs.constants.O_NONBLOCK ?? 0;
const CREATE_NEW = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | NO_FOLLOW;
/** Mode and owner checks mean nothing on Windows. */
const CHECK_OWNERSHIP = process.platform !== 'win32';

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
  /** Entries found unreadable (a torn last line after a crash, a malformed or foreign line) since the last call. */
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

/** The entry a line holds, or why it holds none. */
function revive(line: string): AuditEntry | string {
  let json = line;
  const marked = MARKED.exec(line);
  if (marked) {
    json = marked[2]!;
    if (crc32(json).toString(16).padStart(8, '0') !== marked[1]) return 'checksum mismatch: changed after it was written';
  } else if (line.startsWith('{"v":')) {
    return 'not a spool format this version reads';
  }
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return 'not JSON (a line torn by a crash mid-append?)';
  }
  // Lines without the marker were written by 0.1.0 (the entry's JSON alone): replayed only when they have an entry's shape.
  const problem = entryProblem(value);
  if (problem) return `not an audit entry: ${problem}`;
  const entry = value as AuditEntry & { date: string | Date };
  entry.date = new Date(entry.date);
  return entry;
}

/** Why a parsed line is not an entry this package wrote, or null when it could be. Extra fields are kept: a transform may add them. */
function entryProblem(value: unknown): string | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'not an object';
  const entry = value as Record<string, unknown>;
  if (typeof entry._id !== 'string' || !OBJECT_ID.test(entry._id)) return '_id is not a 24-character hex id';
  if (typeof entry.date !== 'string' || Number.isNaN(Date.parse(entry.date))) return 'date is not an ISO date';
  for (const [name, field] of Object.entries(entry)) {
    if (field === null || field === undefined || name === '_id' || name === 'date' || !isFieldName(name)) continue;
    const kind = FIELDS[name].kind;
    const fits = kind === 'json' || (kind === 'strings' ? Array.isArray(field) && field.every((item) => typeof item === 'string') : typeof field === kind);
    if (!fits) return `${name} is not a ${kind === 'strings' ? 'list of strings' : kind}`;
  }
  return null;
}

function serialize(entries: AuditEntry[]): string {
  return entries.map(mark).join('\n') + '\n';
}

/** One spool line: the journal writes the same lines, so a dead process's journal replays as a segment. */
export function mark(entry: AuditEntry): string {
  const json = JSON.stringify(entry);
  return `{"v":1,"crc":"${crc32(json).toString(16).padStart(8, '0')}","entry":${json}}`;
}

function writers(mode: number): string {
  return [(mode & 0o020) !== 0 ? 'its group' : '', (mode & 0o002) !== 0 ? 'others' : ''].filter(Boolean).join(' and ');
}

function octal(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}

/** Why files in this directory could come from someone else, or null when only this process's user can put them there. */
function unsafeDirectory(dir: string): string | null {
  if (!CHECK_OWNERSHIP) return null;
  const uid = process.getuid?.();
  const link = fs.lstatSync(dir);
  // A link another user owns in a shared parent (/tmp) is one they can point elsewhere later.
  if (link.isSymbolicLink() && uid !== undefined && link.uid !== uid && link.uid !== 0)
    return `is a symbolic link owned by uid ${link.uid}, not by this process's uid ${uid}`;
  const stat = fs.statSync(dir);
  if (!stat.isDirectory()) return 'is not a directory';
  if (uid !== undefined && stat.uid !== uid) return `is owned by uid ${stat.uid}, not by this process's uid ${uid}`;
  if ((stat.mode & 0o022) !== 0) return `can be written by ${writers(stat.mode)} (mode ${octal(stat.mode)})`;
  return null;
}

/** Why an opened segment could come from someone else, or null when it is one this process's user wrote. */
function unsafeSegment(stat: fs.Stats): string | null {
  if (!stat.isFile()) return 'is not a regular file';
  if (!CHECK_OWNERSHIP) return null;
  const uid = process.getuid?.();
  if (uid !== undefined && stat.uid !== uid) return `is owned by uid ${stat.uid}, not by this process's uid ${uid}`;
  if ((stat.mode & 0o022) !== 0) return `can be written by ${writers(stat.mode)} (mode ${octal(stat.mode)})`;
  return null;
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

  private readonly owner: SpoolOwner;
  /** False when the caller passed the owner (it also owns a journal): the caller releases it. */
  private readonly ownsOwner: boolean;

  constructor(
    private readonly dir: string,
    private readonly onError: (error: Error) => void,
    owner?: SpoolOwner,
  ) {
    this.owner = owner ?? new SpoolOwner(dir);
    this.ownsOwner = owner === undefined;
    // A directory that cannot be created now is reported, not thrown: the app keeps serving,
    // entries stay in memory, and every later append tries again.
    this.open();
  }

  /** True once the directory is checked and this process's lock is in it: the journal writes there only then. */
  ready(): boolean {
    return this.open();
  }

  private open(): boolean {
    if (this.opened) return true;
    try {
      fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      // Refused, not fixed: the directory may be shared (/tmp), and what others put there before now cannot be told apart.
      const unsafe = unsafeDirectory(this.dir);
      if (unsafe) {
        this.onError(
          new AuditLogStoreError(
            'EAUDIT_SPOOL_UNSAFE',
            `spoolDir ${this.dir} ${unsafe}, so others could plant entries to be replayed into the audit log. Spooling is off until it is fixed: entries past the queue are dropped (EAUDIT_DROPPED). Use a directory owned by this process's user that no one else can write (chmod 700), or a path that does not exist yet: it is created with mode 0700.`,
            0,
          ),
        );
        return false;
      }
      this.owner.claim();
      // Segments and journals left by processes that are gone are replayed first, in the order they were written.
      const names = fs.readdirSync(this.dir);
      const found: Segment[] = [];
      const keys = new Set<number>();
      // One liveness check per owner, not per file: each reads a lock and signals a pid.
      const alive = new Map<string, boolean>();
      const isAlive = (file: SpoolFile): boolean => {
        const tag = `${file.pid}.${file.token}`;
        if (!alive.has(tag)) alive.set(tag, this.owner.isAlive(file.pid, file.token));
        return alive.get(tag)!;
      };
      for (const name of names) {
        const file = parseSpoolFile(name);
        if (!file || this.owner.owns(file) || isAlive(file)) continue;
        const segment = this.adopt(file, keys);
        if (segment) {
          keys.add(segment.key);
          found.push(segment);
        }
      }
      this.owner.removeStaleLocks(names);
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
      this.owner.claim();
      // Written whole, then renamed into place: a crash leaves either all of it or none.
      const temporary = `${segment.file}.tmp`;
      // Left by a crash, or planted: either way a new file is made, and a link is never written through.
      fs.rmSync(temporary, { force: true });
      const fd = fs.openSync(temporary, CREATE_NEW, 0o600);
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
        const entries = await this.load(segment);
        if (entries === null) {
          // Left on disk for whoever put it there to see; it is reported again on every start.
          this.segments.shift();
          continue;
        }
        this.reading = { segment, entries };
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
    if (this.ownsOwner) this.releaseOwner();
  }

  /** What is left on disk may now be adopted by the next process to start. */
  private releaseOwner(): void {
    try {
      this.owner.release();
    } catch (error) {
      this.onError(error as Error);
    }
  }

  /** The entries of a segment, or null when it is not one this process's user wrote (reported, to be skipped). */
  private async load(segment: Segment): Promise<AuditEntry[] | null> {
    const text = await this.read(segment);
    if (text === null) return null;
    const entries: AuditEntry[] = [];
    const bad: string[] = [];
    text.split('\n').forEach((line, index) => {
      if (line === '') return;
      const entry = revive(line);
      if (typeof entry === 'string') bad.push(`line ${index + 1} (${entry})`);
      else entries.push(entry);
    });
    // Counted once per segment, however often it is loaded again after a failed write.
    if (bad.length > 0 && segment.consumed === 0 && !this.reportedBad.has(segment.file)) {
      this.reportedBad.add(segment.file);
      this.unreadable += bad.length;
      const named = bad.slice(0, LINES_NAMED).join(', ') + (bad.length > LINES_NAMED ? `, and ${bad.length - LINES_NAMED} more` : '');
      this.onError(
        new AuditLogStoreError(
          'EAUDIT_SPOOL_CORRUPT',
          `${bad.length} unreadable line(s) in ${segment.file} were skipped, never replayed: ${named}. The rest of the segment is replayed.`,
          bad.length,
        ),
      );
    }
    return entries;
  }

  /** A segment's text, read without following a link; null when it is not one this process's user wrote. */
  private async read(segment: Segment): Promise<string | null> {
    let handle: fs.promises.FileHandle;
    try {
      handle = await fs.promises.open(segment.file, fs.constants.O_RDONLY | NO_FOLLOW | NON_BLOCK);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return ''; // removed by hand: nothing to replay
      // ELOOP on Linux and macOS, EMLINK on FreeBSD: the name is a symbolic link.
      if (code === 'ELOOP' || code === 'EMLINK') return this.skip(segment, 'is a symbolic link');
      this.onError(error as Error);
      throw error;
    }
    try {
      // Checked on the open file, so it cannot be swapped between the check and the read.
      const unsafe = unsafeSegment(await handle.stat());
      if (unsafe) return this.skip(segment, unsafe);
      return await handle.readFile('utf8');
    } catch (error) {
      this.onError(error as Error);
      throw error;
    } finally {
      await handle.close().catch(() => undefined);
    }
  }

  private skip(segment: Segment, why: string): null {
    this.onError(
      new AuditLogStoreError(
        'EAUDIT_SPOOL_UNSAFE',
        `${segment.file} ${why}; it was skipped, not followed or replayed, and left in place. Only this process's user's spool segments belong in spoolDir: remove it.`,
        0,
      ),
    );
    return null;
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

  /**
   * Takes a file of an owner that is gone by renaming it to this owner: atomic, so of two
   * processes starting at once one gets it and the other ENOENT. A file that is not a safe
   * regular file is listed under its own name, to be reported and skipped when read.
   */
  private adopt(file: SpoolFile, keys: Set<number>): Segment | null {
    const from = path.join(this.dir, file.name);
    let stat: fs.Stats;
    try {
      stat = fs.lstatSync(from);
    } catch {
      return null; // adopted by another process since the listing
    }
    if (!stat.isFile() || unsafeSegment(stat)) return file.kind === 'spool' ? { key: file.key, file: from, consumed: 0 } : null;
    // Two dead owners may have used one key (same microsecond tick): the second moves up one, which keeps the order.
    let key = file.key;
    while (keys.has(key)) key++;
    const to = path.join(this.dir, this.nameOf(key));
    try {
      fs.renameSync(from, to);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
    return { key, file: to, consumed: 0 };
  }

  private nameOf(key: number): string {
    return this.owner.fileName('spool', key);
  }

  private rotate(): void {
    this.seal();
    // Written again when a closed spool is appended to: a file of an owner without a lock is up for adoption.
    this.owner.claim();
    for (let tries = 1; ; tries++) {
      const key = Math.max(Date.now() * 1000, this.lastKey + 1);
      this.lastKey = key;
      const segment: Segment = { key, file: path.join(this.dir, this.nameOf(key)), consumed: 0 };
      let fd: number;
      try {
        // Always a new file: a name taken since start (a planted file or link) is never appended to.
        fd = fs.openSync(segment.file, fs.constants.O_APPEND | CREATE_NEW, 0o600);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST' && tries < 16) continue;
        throw error;
      }
      this.current = { segment, fd, bytes: 0 };
      this.segments.push(segment);
      return;
    }
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
