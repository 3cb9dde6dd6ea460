/**
 * Who owns which files of a spoolDir that several processes share (Node's cluster, several
 * instances on one host). Each process, at start, takes an owner tag (`<pid>.<random token>`)
 * and names every file it writes with it; a lock file `owner-<tag>.lock` (pid and the process's
 * start time inside) says the owner is still running. A file whose owner is gone (no lock, the
 * pid is dead or now belongs to another process, or the lock's pid is this process's own pid
 * with another token: a restart in a container, where the pid is always the same) is adopted:
 * renamed to the adopter's tag. rename() is atomic, so when two processes start at once and
 * both try, one gets the file and the other ENOENT: two live processes never replay one file.
 *
 * The pid check only sees processes of this host and pid namespace: several hosts (or
 * containers with their own pid namespaces) sharing one directory each need their own spoolDir.
 */
import fs from 'fs';
import path from 'path';
import { randomBytes } from 'crypto';

/** `spool-…` segments are replayed; `journal-…` files are the live journal of their owner (journal.ts). */
export type SpoolFileKind = 'spool' | 'journal';

export interface SpoolFile {
  kind: SpoolFileKind;
  key: number;
  pid: number;
  /** null for segments written by 0.1.0, which had no owner tag: whoever starts first takes them. */
  token: string | null;
  name: string;
}

const FILE_NAME = /^(spool|journal)-(\d{16})-(\d+)(?:\.([0-9a-f]{16}))?\.ndjson$/;
const LOCK_NAME = /^owner-(\d+)\.([0-9a-f]{16})\.lock$/;

/** Tokens of the owners open in this process: two audit logs in one process share its pid, not their files. */
const OPEN_HERE = new Set<string>();

export function parseSpoolFile(name: string): SpoolFile | null {
  const match = FILE_NAME.exec(name);
  if (!match) return null;
  return { kind: match[1] as SpoolFileKind, key: Number(match[2]), pid: Number(match[3]), token: match[4] ?? null, name };
}

/**
 * The process's start time as the kernel counts it (Linux: field 22 of /proc/<pid>/stat), or
 * null where there is no /proc. Compared as written, so the unit does not matter: a pid whose
 * start time changed was reused by another process.
 */
function processStart(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after its closing one.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class SpoolOwner {
  readonly pid = process.pid;
  readonly token = randomBytes(8).toString('hex');
  private lockFile: string | null = null;

  constructor(private readonly dir: string) {}

  get tag(): string {
    return `${this.pid}.${this.token}`;
  }

  fileName(kind: SpoolFileKind, key: number): string {
    return `${kind}-${String(key).padStart(16, '0')}-${this.tag}.ndjson`;
  }

  owns(file: SpoolFile): boolean {
    return file.pid === this.pid && file.token === this.token;
  }

  /** Writes the lock, before any file of this owner exists; again after release(). Throws when the disk refuses. */
  claim(): void {
    if (this.lockFile) return;
    const file = path.join(this.dir, `owner-${this.tag}.lock`);
    // Written aside and renamed: another process never reads a half-written lock.
    const temporary = `${file}.tmp`;
    fs.writeFileSync(temporary, JSON.stringify({ pid: this.pid, token: this.token, start: processStart(this.pid) }), { mode: 0o600, flag: 'w' });
    fs.renameSync(temporary, file);
    this.lockFile = file;
    OPEN_HERE.add(this.token);
  }

  /** This owner is done: its files left on disk may be adopted by the next process that starts. */
  release(): void {
    if (!this.lockFile) return;
    OPEN_HERE.delete(this.token);
    fs.rmSync(this.lockFile, { force: true });
    this.lockFile = null;
  }

  /** True while the process that wrote this file may still append to it or replay it. */
  isAlive(pid: number, token: string | null): boolean {
    if (token === null) return false;
    if (pid === this.pid) return OPEN_HERE.has(token);
    let lock: { start?: unknown };
    try {
      lock = JSON.parse(fs.readFileSync(path.join(this.dir, `owner-${pid}.${token}.lock`), 'utf8')) as { start?: unknown };
    } catch {
      return false; // released at close, or never written by a live owner
    }
    if (!running(pid)) return false;
    const start = processStart(pid);
    return !(typeof lock.start === 'string' && start !== null && start !== lock.start);
  }

  /** Removes the locks of owners that are gone (after their files were adopted). */
  removeStaleLocks(names: string[]): void {
    for (const name of names) {
      const match = LOCK_NAME.exec(name);
      if (!match || this.isAlive(Number(match[1]), match[2]!)) continue;
      fs.rmSync(path.join(this.dir, name), { force: true });
    }
  }
}
