/**
 * The embedded store, on @seald-io/nedb: `fileStore({ path })` persists to one append-only file.
 * TTL is enforced here rather than with nedb's own TTL index, which survives `removeIndex`
 * and so could never be changed or removed: every read filters out expired entries, and a
 * timer deletes them, so they disappear as they do from MongoDB.
 */
import fs from 'fs';
import Datastore from '@seald-io/nedb';
import type { AuditEntry } from '../entry';
import { AuditLogConfigError, show } from '../errors';
import type { AuditCheckpoint } from '../integrity/checkpoint';
import { nedbQuery } from './nedb-query';
import type { AuditFilter, AuditQuery, AuditStore, CheckpointQuery, StoreInitConfig } from './types';

export interface EmbeddedStoreOptions {
  /** How often expired entries are deleted, in ms. Reads never return them in between. Defaults to 60000. */
  sweepIntervalMs?: number;
}

export interface FileStoreOptions extends EmbeddedStoreOptions {
  /** The data file. Created with its directory when missing. */
  path: string;
  /** Rewrite the append-only file this often, in ms (0: only at start). Defaults to 3600000. */
  compactionIntervalMs?: number;
}

type Doc = AuditEntry & Record<string, unknown>;

// Selective fields only: every index costs each insert an AVL insertion (collectionName has too
// few distinct values to narrow a scan much).
const INDEXED_FIELDS = ['date', 'user', 'documents', 'requestId'];
/** Fields a query can narrow by index: ours and nedb's own `_id` index. */
const HINTED_FIELDS = ['_id', ...INDEXED_FIELDS];

function checkInterval(value: unknown, option: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new AuditLogConfigError('EAUDIT_OPTION', option, `${option} must be a whole number of milliseconds (0 or more); got ${show(value)}.`);
  }
  return value;
}

class EmbeddedAuditStore implements AuditStore {
  private ttlSeconds: number | null = null;
  private sweeper: NodeJS.Timeout | null = null;
  private ready: Promise<void> | null = null;
  /** Integrity checkpoints: a second file beside the data file (`<path>.checkpoints`), opened on first use, never swept. */
  private checkpointsDb: Promise<Datastore<AuditCheckpoint & Record<string, unknown>>> | null = null;

  constructor(
    private readonly db: Datastore<Doc>,
    private readonly path: string,
    private readonly sweepIntervalMs: number,
    private readonly compactionIntervalMs: number,
  ) {}

  init(config: StoreInitConfig): Promise<void> {
    this.ttlSeconds = config.ttlSeconds;
    this.ready ??= this.open(config);
    return this.ready;
  }

  /**
   * The data file holds request bodies and results: like the spool, only its owner may read it.
   * nedb creates and rewrites it with mode 0600 (the `modes` option); a file that already exists
   * with a looser mode is tightened, and reported, rather than refused: it is ours to fix.
   */
  private async tighten(config: StoreInitConfig): Promise<void> {
    if (process.platform === 'win32') return;
    let mode: number;
    try {
      mode = (await fs.promises.stat(this.path)).mode & 0o777;
    } catch {
      return; // not there yet: nedb creates it 0600
    }
    if ((mode & 0o077) === 0) return;
    await fs.promises.chmod(this.path, 0o600);
    config.warn?.('EAUDIT_FILE_MODE', `the audit data file ${this.path} was readable or writable by others (mode ${mode.toString(8).padStart(4, '0')}); it is now 0600. Audit entries hold request bodies and results.`);
  }

  private async open(config: StoreInitConfig): Promise<void> {
    try {
      await this.tighten(config);
      await this.db.loadDatabaseAsync();
    } catch (error) {
      this.ready = null; // let the writer retry: the file may be locked or the disk full for a while
      throw error;
    }
    for (const fieldName of INDEXED_FIELDS) await this.db.ensureIndexAsync({ fieldName });
    await this.sweep();
    if (this.compactionIntervalMs > 0) this.db.setAutocompactionInterval(Math.max(5000, this.compactionIntervalMs));
    if (this.ttlSeconds !== null && this.sweepIntervalMs > 0) {
      this.sweeper = setInterval(() => void this.sweep().catch(() => undefined), this.sweepIntervalMs);
      this.sweeper.unref();
    }
  }

  /** Deletes expired entries now; resolves to how many. */
  async sweep(): Promise<number> {
    const cutoff = this.cutoff();
    if (cutoff === null) return 0;
    return this.db.removeAsync({ date: { $lt: cutoff } }, { multi: true });
  }

  private cutoff(): Date | null {
    return this.ttlSeconds === null ? null : new Date(Date.now() - this.ttlSeconds * 1000);
  }

  private live(filter: AuditFilter): AuditFilter {
    const cutoff = this.cutoff();
    return nedbQuery(cutoff === null ? filter : { $and: [filter, { date: { $gte: cutoff } }] }, HINTED_FIELDS);
  }

  async insertMany(entries: AuditEntry[]): Promise<void> {
    if (entries.length === 0) return;
    try {
      await this.db.insertAsync(entries as Doc[]);
    } catch (error) {
      if ((error as { errorType?: string }).errorType !== 'uniqueViolated') throw error;
      // nedb rolls back the whole batch on one duplicate; a retried batch may be partly stored.
      for (const entry of entries) {
        try {
          await this.db.insertAsync(entry as Doc);
        } catch (inner) {
          if ((inner as { errorType?: string }).errorType !== 'uniqueViolated') throw inner;
        }
      }
    }
  }

  async find(query: AuditQuery): Promise<{ docs: Partial<AuditEntry>[]; total: number }> {
    const filter = this.live(query.filter);
    const sort: Record<string, 1 | -1> = {};
    for (const [field, direction] of query.sort) sort[field] = direction;
    if (!('_id' in sort)) sort._id = query.sort[0]?.[1] ?? -1;
    const projection: Record<string, 1> = {};
    for (const field of query.select ?? []) projection[field] = 1;
    const [docs, total] = await Promise.all([
      this.db.findAsync(filter, projection).sort(sort).skip(query.skip).limit(query.limit).execAsync(),
      this.db.countAsync(filter).execAsync(),
    ]);
    return { docs: docs as Partial<AuditEntry>[], total };
  }

  async count(filter: AuditFilter): Promise<number> {
    return this.db.countAsync(this.live(filter)).execAsync();
  }

  async findById(id: string): Promise<AuditEntry | null> {
    const doc = await this.db.findOneAsync(this.live({ _id: id }));
    return (doc as AuditEntry | null) ?? null;
  }

  private checkpointFile(): Promise<Datastore<AuditCheckpoint & Record<string, unknown>>> {
    this.checkpointsDb ??= (async () => {
      const db = new Datastore<AuditCheckpoint & Record<string, unknown>>({ filename: `${this.path}.checkpoints`, modes: { fileMode: 0o600, dirMode: 0o700 } });
      await db.loadDatabaseAsync();
      await db.ensureIndexAsync({ fieldName: 'at' });
      return db;
    })().catch((error: unknown) => {
      this.checkpointsDb = null; // retried on the next call
      throw error;
    });
    return this.checkpointsDb;
  }

  async insertCheckpoints(checkpoints: AuditCheckpoint[]): Promise<void> {
    const db = await this.checkpointFile();
    for (const checkpoint of checkpoints) {
      try {
        await db.insertAsync(checkpoint as AuditCheckpoint & Record<string, unknown>);
      } catch (error) {
        if ((error as { errorType?: string }).errorType !== 'uniqueViolated') throw error; // a retry: already written
      }
    }
  }

  async findCheckpoints(query: CheckpointQuery): Promise<AuditCheckpoint[]> {
    const db = await this.checkpointFile();
    const filter = query.after === null ? {} : { _id: { $gt: query.after } };
    return (await db.findAsync(filter).sort({ _id: 1 }).limit(query.limit).execAsync()) as AuditCheckpoint[];
  }

  async latestCheckpoint(): Promise<AuditCheckpoint | null> {
    const db = await this.checkpointFile();
    const [latest] = await db.findAsync({}).sort({ at: -1, _id: -1 }).limit(1).execAsync();
    return (latest as AuditCheckpoint | undefined) ?? null;
  }

  async close(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = null;
    this.db.stopAutocompaction();
    await this.ready?.catch(() => undefined);
  }
}

/** Entries kept in one local file (@seald-io/nedb): no database server needed. */
export function fileStore(options: FileStoreOptions): AuditStore {
  if (options === null || typeof options !== 'object' || typeof options.path !== 'string' || options.path === '') {
    throw new AuditLogConfigError('EAUDIT_OPTION', 'path', `fileStore needs a file path, like fileStore({ path: './data/audit.db' }); got ${show(options)}.`);
  }
  const sweep = checkInterval(options.sweepIntervalMs, 'sweepIntervalMs', 60_000);
  const compaction = checkInterval(options.compactionIntervalMs, 'compactionIntervalMs', 3_600_000);
  const db = new Datastore<Doc>({ filename: options.path, modes: { fileMode: 0o600, dirMode: 0o700 } });
  return new EmbeddedAuditStore(db, options.path, sweep, compaction);
}
