/** A store the pipeline tests drive by hand: up, down, hung, or failing part-way through a batch. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ObjectId } from 'bson';
import { blankEntry, type AuditEntry } from '../../src/entry';
import type { AuditLogStoreError } from '../../src/errors';
import type { AuditStore } from '../../src/stores/types';
import type { WriterSettings } from '../../src/pipeline/writer';

export type Mode = 'up' | 'down' | 'hang' | 'half';

export class FakeStore implements AuditStore {
  mode: Mode = 'up';
  initMode: 'up' | 'down' | 'hang' = 'up';
  /** Entries stored, in the order the store took them; a duplicate id is skipped, as real stores do. */
  readonly stored: AuditEntry[] = [];
  /** Every id in every insertMany call, duplicates included. */
  readonly attempts: string[] = [];
  readonly calls: number[] = [];
  /** insertMany calls running right now, and the most ever at once. */
  active = 0;
  maxActive = 0;
  closed = false;
  /** Entries (by label) the store can never take, like a document the driver cannot encode. */
  readonly poison = new Set<string>();
  private readonly ids = new Set<string>();
  private gates: Array<() => void> = [];

  async init(): Promise<void> {
    if (this.initMode === 'down') throw new Error('init: store down');
    if (this.initMode === 'hang') await new Promise<void>((resolve) => this.gates.push(resolve));
  }

  async insertMany(entries: AuditEntry[]): Promise<void> {
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    this.calls.push(entries.length);
    for (const entry of entries) this.attempts.push(entry._id);
    try {
      const mode = this.mode;
      if (mode === 'hang') await new Promise<void>((resolve) => this.gates.push(resolve));
      if (mode === 'down') throw new Error('store down');
      const bad = entries.find((entry) => this.poison.has(entry.notes ?? ''));
      if (bad) throw Object.assign(new Error(`cannot encode ${bad.notes}`), { rejected: true });
      // 'half': the first half is stored, then the connection "drops": the caller sees a failure.
      const keep = mode === 'half' ? Math.ceil(entries.length / 2) : entries.length;
      for (const entry of entries.slice(0, keep)) {
        if (this.ids.has(entry._id)) continue;
        this.ids.add(entry._id);
        this.stored.push(entry);
      }
      if (mode === 'half') {
        this.mode = 'up';
        throw new Error('connection dropped mid-batch');
      }
    } finally {
      this.active--;
    }
  }

  /** Lets every hung call (and init) go on, in the mode set now. */
  release(): void {
    const gates = this.gates;
    this.gates = [];
    for (const open of gates) open();
  }

  hung(): number {
    return this.gates.length;
  }

  async find(): Promise<{ docs: AuditEntry[]; total: number }> {
    return { docs: [...this.stored], total: this.stored.length };
  }

  async count(): Promise<number> {
    return this.stored.length;
  }

  async findById(id: string): Promise<AuditEntry | null> {
    return this.stored.find((entry) => entry._id === id) ?? null;
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

let counter = 0;

export function entry(label: string | number = counter++): AuditEntry {
  return { ...blankEntry(new ObjectId().toHexString(), new Date()), notes: String(label), endpoint: `/e/${label}` };
}

export function settings(overrides: Partial<WriterSettings> = {}): WriterSettings {
  return {
    ttlSeconds: null,
    batchSize: 10,
    flushIntervalMs: 1,
    maxQueueEntries: 1000,
    maxQueueBytes: 1024 * 1024,
    retryMinDelayMs: 1,
    retryMaxDelayMs: 4,
    ...overrides,
  };
}

export class Reports {
  readonly errors: AuditLogStoreError[] = [];
  readonly report = (error: AuditLogStoreError): void => {
    this.errors.push(error);
  };

  codes(): string[] {
    return [...new Set(this.errors.map((error) => error.code))].sort();
  }
}

export function tempDir(prefix = 'eal-spool-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** A temp-dir maker for one test file: every dir it made is removed after the file's tests. */
export function tempDirs(): () => string {
  const made: string[] = [];
  afterAll(() => {
    for (const dir of made) fs.rmSync(dir, { recursive: true, force: true });
  });
  return () => {
    const dir = tempDir();
    made.push(dir);
    return dir;
  };
}

export function segmentFiles(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((name) => name.endsWith('.ndjson'))
    .sort();
}
