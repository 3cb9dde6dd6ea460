/**
 * The embedded store: `fileStore({ path })` keeps entries in an SQLite database on disk (through
 * better-sqlite3, an optional peer dependency loaded only here), so the process's memory stays
 * flat however many entries it holds. WAL mode with `synchronous=NORMAL`, one transaction and
 * one prepared statement per batch. Expiry as MongoDB's TTL index on `expireAt` has it (each
 * entry's own date; none when null or absent): reads never return expired entries, and a timer
 * deletes them in small batches by the expireAt index, yielding to the event loop between batches. A nedb data file
 * left at `path` by 0.1 is imported on first start.
 */
import fs from 'fs';
import nodePath from 'path';
import type { AuditEntry } from '../entry';
import { AuditLogConfigError, show } from '../errors';
import { dataFileKind, replayNedbFile } from './nedb-import';
import { loadSqlite, type SqliteDatabase, type SqliteOpen, type SqliteStatement } from './sqlite-driver';
import { SqlFilter, orderBy, type PredicateScope } from './sqlite-query';
import { regexpFunction } from './sqlite-regex';
import {
  CHANGES_TABLE,
  CHECKPOINTS_TABLE,
  HOLDS_TABLE,
  META_TABLE,
  COLUMNS,
  SQL_TYPES,
  COLUMN_BY_FIELD,
  addMissingColumnsSql,
  DOCUMENTS_TABLE,
  changePairs,
  SCHEMA_VERSION,
  DATA_KEYS_TABLE,
  TABLE,
  decodeRow,
  encodeEntry,
  schemaSql,
  UnstorableEntryError,
  type Column,
} from './sqlite-schema';
import { reviveCheckpoint, type AuditCheckpoint } from '../integrity/checkpoint';
import { reviveDataKey, type DataKeyQuery, type DataKeyRecord } from '../encryption/data-key';
import type { AuditFilter, AuditHold, AuditQuery, AuditStore, CheckpointQuery, ExpiryOf, StatsQuery, StoreInitConfig, StoreStats } from './types';

export interface EmbeddedStoreOptions {
  /** How often expired entries are deleted, in ms. Reads never return them in between. Defaults to 60000. */
  sweepIntervalMs?: number;
}

export interface FileStoreOptions extends EmbeddedStoreOptions {
  /** The SQLite database file (`-wal` and `-shm` files live beside it). Created with its directory when missing. */
  path: string;
  /** @deprecated 0.1's nedb store compacted its file; SQLite needs no compaction. Accepted and ignored. */
  compactionIntervalMs?: number;
}

const EXPIRE_AT = COLUMN_BY_FIELD.get('expireAt')!;
const HOLDS = COLUMN_BY_FIELD.get('holds')!;

/** A hold as stored in its row's JSON `doc`, dates revived. */
function reviveHold(doc: string): AuditHold {
  const hold = JSON.parse(doc) as AuditHold & { placedAt: string; releasedAt: string | null };
  return { ...hold, placedAt: new Date(hold.placedAt), releasedAt: hold.releasedAt === null ? null : new Date(hold.releasedAt) };
}

/** Rows deleted per statement by the TTL sweep: a few ms each, so reads and writes interleave. */
const SWEEP_BATCH = 1000;
const STATEMENT_CACHE = 200;

function checkInterval(value: unknown, option: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new AuditLogConfigError('EAUDIT_OPTION', option, `${option} must be a whole number of milliseconds (0 or more); got ${show(value)}.`);
  }
  return value;
}

interface Writes {
  insert: SqliteStatement;
  insertDocument: SqliteStatement;
  insertChange: SqliteStatement;
  deleteById: SqliteStatement;
}

const INSERT_SQL = `INSERT OR IGNORE INTO ${TABLE} (${COLUMNS.map((column) => column.sql).join(', ')}, absent, extra) VALUES (${COLUMNS.map(() => '?').join(', ')}, ?, ?)`;

/** Writes entries through prepared statements; the caller holds the transaction. Returns how many were stored. */
function writeEntries(writes: Writes, entries: readonly AuditEntry[], rows: readonly unknown[][], replace: boolean): number {
  let stored = 0;
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    if (replace) writes.deleteById.run(row[0]);
    // OR IGNORE: an _id already stored is a retried batch, written once.
    const info = writes.insert.run(row);
    if (info.changes === 0) continue;
    stored += 1;
    const { documents, changes } = entries[i]!;
    if (Array.isArray(documents)) {
      for (const document of documents) if (typeof document === 'string') writes.insertDocument.run(document, info.lastInsertRowid);
    }
    if (changes) for (const [collection, document] of changePairs(changes)) writes.insertChange.run(collection, document, info.lastInsertRowid);
  }
  return stored;
}

function encodeAll(entries: readonly AuditEntry[]): unknown[][] {
  try {
    return entries.map(encodeEntry);
  } catch (error) {
    // An entry that cannot be encoded can never be stored: say so, so the writer drops it (isRejection).
    if (error instanceof UnstorableEntryError || error instanceof TypeError) throw Object.assign(error, { rejected: true });
    throw error;
  }
}

class SqliteAuditStore implements AuditStore {
  private db: SqliteDatabase | null = null;
  private writes: Writes | null = null;
  private readonly statements = new Map<string, SqliteStatement>();
  private ttlSeconds: number | null = null;
  private sweeper: NodeJS.Timeout | null = null;
  private sweeping: Promise<number> | null = null;
  private ready: Promise<void> | null = null;
  private closed = false;
  private readonly predicates = new Map<number, (value: unknown) => boolean>();
  private nextPredicate = 0;

  constructor(
    private readonly openSqlite: SqliteOpen,
    private readonly path: string,
    private readonly sweepIntervalMs: number,
  ) {}

  init(config: StoreInitConfig): Promise<void> {
    // A store closed by one auditLog() can be started again by the next (tests, restarts in-process).
    if (this.closed && this.db === null) {
      this.closed = false;
      this.ready = null;
    }
    this.ttlSeconds = config.ttlSeconds;
    this.ready ??= this.open(config).catch((error: unknown) => {
      this.ready = null; // let the writer retry: the disk may be full or the file locked for a while
      throw error;
    });
    return this.ready.then(() => this.armSweeper());
  }

  private async open(config: StoreInitConfig): Promise<void> {
    await fs.promises.mkdir(nodePath.dirname(this.path), { recursive: true, mode: 0o700 });
    const kind = await dataFileKind(this.path);
    if (kind === 'unknown') {
      throw new Error(
        `${this.path} is neither an SQLite database nor a nedb data file from express-audit-log 0.1; move it away or give fileStore() another path`,
      );
    }
    if (kind === 'nedb') await this.importNedb(config);
    await this.tighten(config);
    if (this.closed) throw new Error('the file store was closed while it started');
    const db = this.openDatabase(this.path);
    // Chain reads (verify) walk one chain in order: only worth its write cost when integrity is on.
    if (config.integrity) db.exec(`CREATE INDEX IF NOT EXISTS ${TABLE}_chain_seq ON ${TABLE} ("chain", "seq")`);
    // Every read of a tenant's caller filters on tenant (and most sort by date): only worth it with getTenant.
    if (config.tenants) db.exec(`CREATE INDEX IF NOT EXISTS ${TABLE}_tenant_date ON ${TABLE} ("tenant", "date")`);
    // `?user=` filters match the blind index when encryption is on.
    if (config.encryption) db.exec(`CREATE INDEX IF NOT EXISTS ${TABLE}_subject_date ON ${TABLE} ("subject", "date")`);
    this.db = db;
    this.writes = this.prepareWrites(db);
    this.backfillExpiry(db, config.ttlSeconds);
    void this.sweep().catch(() => undefined); // entries that expired while the app was down
  }

  /**
   * The database holds request bodies and results: like the spool, only its owner may read it.
   * It is created 0600 (SQLite gives its -wal and -shm files the database's mode); one that
   * already exists with a looser mode is tightened, and reported, rather than refused.
   */
  private async tighten(config: StoreInitConfig): Promise<void> {
    if (process.platform === 'win32') return;
    await (await fs.promises.open(this.path, 'a', 0o600)).close();
    const mode = (await fs.promises.stat(this.path)).mode & 0o777;
    for (const file of [this.path, `${this.path}-wal`, `${this.path}-shm`]) {
      await fs.promises.chmod(file, 0o600).catch(() => undefined);
    }
    if ((mode & 0o077) !== 0) {
      config.warn?.(
        'EAUDIT_FILE_MODE',
        `the audit data file ${this.path} was readable or writable by others (mode ${mode.toString(8).padStart(4, '0')}); it is now 0600. Audit entries hold request bodies and results.`,
      );
    }
  }

  private openDatabase(file: string): SqliteDatabase {
    const db = this.openSqlite(file);
    try {
      const version = db.pragma('user_version', { simple: true }) as number;
      if (version > SCHEMA_VERSION) throw new Error(`${file} was written by a newer express-audit-log (schema ${version}; this one reads ${SCHEMA_VERSION})`);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      // After a checkpoint, truncate the WAL back to this size rather than keep its peak on disk.
      db.pragma('journal_size_limit = 16777216');
      // Files made before a column existed (0.1's import, development builds) get it first, then the schema's indexes.
      const existing = new Set((db.prepare(`SELECT name FROM pragma_table_info('${TABLE}')`).all() as Array<{ name: string }>).map((row) => row.name));
      db.transaction(() => {
        for (const statement of addMissingColumnsSql(existing)) db.exec(statement);
      })();
      db.exec(schemaSql());
      db.pragma(`user_version = ${SCHEMA_VERSION}`);
      // directOnly: callable from our statements, never from a trigger or view someone adds to the file.
      db.function('audit_match', { directOnly: true }, (id: number, value: unknown) => (this.predicates.get(id)?.(value) ? 1 : 0));
      db.function('audit_regexp', { deterministic: true, directOnly: true }, regexpFunction() as (...args: never[]) => unknown);
    } catch (error) {
      db.close();
      throw error;
    }
    return db;
  }

  private prepareWrites(db: SqliteDatabase): Writes {
    return {
      insert: db.prepare(INSERT_SQL),
      insertDocument: db.prepare(`INSERT OR IGNORE INTO ${DOCUMENTS_TABLE} (document, row) VALUES (?, ?)`),
      insertChange: db.prepare(`INSERT OR IGNORE INTO ${CHANGES_TABLE} (collection, document, row) VALUES (?, ?, ?)`),
      deleteById: db.prepare(`DELETE FROM ${TABLE} WHERE "_id" = ?`),
    };
  }

  /**
   * Imports 0.1's nedb file into a new database beside it, then swaps the files: a crash midway
   * leaves the nedb file in place, and the import starts over on the next start.
   */
  private async importNedb(config: StoreInitConfig): Promise<void> {
    const temp = `${this.path}.importing`;
    for (const suffix of ['', '-wal', '-shm']) await fs.promises.rm(temp + suffix, { force: true });
    await (await fs.promises.open(temp, 'wx', 0o600)).close();
    const db = this.openDatabase(temp);
    let imported = 0;
    let skipped = 0;
    let corrupt = 0;
    try {
      const writes = this.prepareWrites(db);
      const upsert = db.transaction((docs: Array<Record<string, unknown>>) => {
        for (const doc of docs) {
          try {
            writeEntries(writes, [doc as unknown as AuditEntry], [encodeEntry(doc as unknown as AuditEntry)], true);
          } catch (error) {
            if (!(error instanceof UnstorableEntryError)) throw error;
            skipped += 1;
          }
        }
      });
      const remove = db.transaction((ids: string[]) => {
        for (const id of ids) writes.deleteById.run(id);
      });
      ({ corrupt } = await replayNedbFile(this.path, { upsert, remove }));
      imported = (db.prepare(`SELECT count(*) AS n FROM ${TABLE}`).get() as { n: number }).n;
    } finally {
      db.close();
    }
    let kept = `${this.path}.nedb-migrated`;
    for (let n = 2; fs.existsSync(kept); n++) kept = `${this.path}.nedb-migrated-${n}`;
    await fs.promises.rename(this.path, kept);
    await fs.promises.rename(temp, this.path);
    const problems = corrupt + skipped > 0 ? ` ${corrupt + skipped} line(s) were not entries and were skipped.` : '';
    config.warn?.(
      'EAUDIT_NEDB_MIGRATED',
      `imported ${imported} entries from the express-audit-log 0.1 nedb file at ${this.path} into SQLite; the old file is kept as ${kept}: delete it once you no longer need it.${problems}`,
    );
  }

  private armSweeper(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = null;
    // Retention rules give entries an expiry whatever the ttl: the sweep always runs (an empty index range when none is due).
    if (this.sweepIntervalMs === 0 || this.closed) return;
    this.sweeper = setInterval(() => void this.sweep().catch(() => undefined), this.sweepIntervalMs);
    this.sweeper.unref();
  }

  /** Deletes expired entries now, SWEEP_BATCH rows per statement; resolves to how many. */
  sweep(): Promise<number> {
    this.sweeping ??= (async () => {
      let total = 0;
      for (;;) {
        if (!this.db || this.closed) return total;
        const deleted = this.sweepStatement().run(Date.now()).changes;
        total += deleted;
        if (deleted < SWEEP_BATCH) return total;
        await new Promise((resolve) => setImmediate(resolve));
      }
    })().finally(() => {
      this.sweeping = null;
    });
    return this.sweeping;
  }

  private sweepStatement(): SqliteStatement {
    return this.statement(`DELETE FROM ${TABLE} WHERE row IN (SELECT row FROM ${TABLE} WHERE "expireAt" <= ? ORDER BY "expireAt" LIMIT ${SWEEP_BATCH})`);
  }

  /** Entries stored without an expiry (by 0.1, or while no ttl was set) follow the default ttl in force. */
  private backfillExpiry(db: SqliteDatabase, ttlSeconds: number | null): void {
    if (ttlSeconds === null) return;
    const bit = EXPIRE_AT.bit;
    db.prepare(`UPDATE ${TABLE} SET "expireAt" = "date" + ?, absent = absent & ~${bit} WHERE (absent & ${bit}) != 0`).run(ttlSeconds * 1000);
  }

  /** The open database, waiting for init() when it is under way. */
  private async database(): Promise<SqliteDatabase> {
    if (this.closed) throw new Error('the file store is closed');
    if (!this.db) {
      if (!this.ready) throw new Error('the file store has not started: init() has not run, or it failed');
      await this.ready;
    }
    return this.db!;
  }

  private statement(sql: string): SqliteStatement {
    let statement = this.statements.get(sql);
    if (!statement) {
      if (this.statements.size >= STATEMENT_CACHE) this.statements.clear();
      statement = this.db!.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  /** Runs a query with the filter's JS predicates registered, and forgets them after. */
  private query<T>(filter: AuditFilter, run: (where: string, params: unknown[]) => T): T {
    const ids: number[] = [];
    const scope: PredicateScope = {
      add: (test) => {
        const id = this.nextPredicate++;
        this.predicates.set(id, test);
        ids.push(id);
        return id;
      },
    };
    try {
      const sql = new SqlFilter(scope);
      const where = `${sql.filter(filter)} AND ("expireAt" IS NULL OR "expireAt" > ?)`;
      sql.params.push(Date.now());
      return run(where, sql.params);
    } finally {
      for (const id of ids) this.predicates.delete(id);
    }
  }

  async insertMany(entries: AuditEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const ttl = this.ttlSeconds;
    if (ttl !== null) {
      for (const entry of entries) if (!('expireAt' in entry)) entry.expireAt = new Date(entry.date.getTime() + ttl * 1000);
    }
    const rows = encodeAll(entries);
    await this.database();
    const writes = this.writes!;
    this.db!.transaction(() => writeEntries(writes, entries, rows, false))();
  }

  async find(query: AuditQuery): Promise<{ docs: Partial<AuditEntry>[]; total: number }> {
    await this.database();
    const columns: Column[] = query.select ? ['_id', ...query.select].flatMap((field) => COLUMN_BY_FIELD.get(field as never) ?? []) : [...COLUMNS];
    const unique = [...new Set(columns)];
    const list = `${unique.map((column) => column.sql).join(', ')}, absent${query.select ? '' : ', extra'}`;
    return this.query(query.filter, (where, params) => {
      const rows = this.statement(`SELECT ${list} FROM ${TABLE} WHERE ${where} ORDER BY ${orderBy(query.sort)} LIMIT ? OFFSET ?`).all(
        ...params,
        query.limit,
        query.skip,
      );
      const total = (this.statement(`SELECT count(*) AS n FROM ${TABLE} WHERE ${where}`).get(...params) as { n: number }).n;
      return { docs: rows.map((row) => decodeRow(row as Record<string, unknown>, unique)), total };
    });
  }

  async count(filter: AuditFilter): Promise<number> {
    await this.database();
    return this.query(filter, (where, params) => (this.statement(`SELECT count(*) AS n FROM ${TABLE} WHERE ${where}`).get(...params) as { n: number }).n);
  }

  /** Two GROUP BY statements on the date index's range; the bucket is integer arithmetic on `date` (ms). */
  async stats(query: StatsQuery): Promise<StoreStats> {
    await this.database();
    const interval = Math.trunc(query.intervalMs);
    const errors = `coalesce(sum("isError" = 1), 0) AS errors`;
    return this.query(query.filter, (where, params) => {
      const buckets = this.statement(
        `SELECT "date" - ("date" % ${interval}) AS start, count(*) AS count, ${errors} FROM ${TABLE} WHERE ${where} GROUP BY start ORDER BY start`,
      ).all(...params) as StoreStats['buckets'];
      if (!query.groupBy) return { buckets, groups: [], groupsTotal: 0 };
      // groupBy is one of FIELDS (checked by the stats parser), quoted like every column name.
      const column = COLUMN_BY_FIELD.get(query.groupBy)!.sql;
      const groups = this.statement(
        `SELECT ${column} AS key, count(*) AS count, ${errors} FROM ${TABLE} WHERE ${where} GROUP BY ${column} ORDER BY count DESC, key ASC LIMIT ?`,
      ).all(...params, query.top) as StoreStats['groups'];
      const total = this.statement(`SELECT count(*) AS n FROM (SELECT 1 FROM ${TABLE} WHERE ${where} GROUP BY ${column})`).get(...params) as { n: number };
      return { buckets, groups, groupsTotal: total.n };
    });
  }

  async findById(id: string): Promise<AuditEntry | null> {
    await this.database();
    return this.query({ _id: id }, (where, params) => {
      const row = this.statement(`SELECT * FROM ${TABLE} WHERE ${where}`).get(...params);
      return row ? (decodeRow(row as Record<string, unknown>, COLUMNS) as AuditEntry) : null;
    });
  }

  async insertCheckpoints(checkpoints: AuditCheckpoint[]): Promise<void> {
    if (checkpoints.length === 0) return;
    await this.database();
    const insert = this.statement(`INSERT OR IGNORE INTO ${CHECKPOINTS_TABLE} (id, at, doc) VALUES (?, ?, ?)`);
    // Dates go as ISO text in `doc` and come back through reviveCheckpoint: milliseconds kept, as the signature needs.
    this.db!.transaction(() => {
      for (const checkpoint of checkpoints) insert.run(checkpoint._id, checkpoint.at.getTime(), JSON.stringify(checkpoint));
    })();
  }

  async findCheckpoints(query: CheckpointQuery): Promise<AuditCheckpoint[]> {
    await this.database();
    const rows =
      query.after === null
        ? this.statement(`SELECT doc FROM ${CHECKPOINTS_TABLE} ORDER BY id LIMIT ?`).all(query.limit)
        : this.statement(`SELECT doc FROM ${CHECKPOINTS_TABLE} WHERE id > ? ORDER BY id LIMIT ?`).all(query.after, query.limit);
    return rows.map((row) => reviveCheckpoint(JSON.parse((row as { doc: string }).doc) as Record<string, unknown>));
  }

  async latestCheckpoint(): Promise<AuditCheckpoint | null> {
    await this.database();
    const row = this.statement(`SELECT doc FROM ${CHECKPOINTS_TABLE} ORDER BY at DESC, id DESC LIMIT 1`).get() as { doc: string } | undefined;
    return row ? reviveCheckpoint(JSON.parse(row.doc) as Record<string, unknown>) : null;
  }

  async insertDataKeys(keys: DataKeyRecord[]): Promise<void> {
    if (keys.length === 0) return;
    await this.database();
    const insert = this.statement(`INSERT OR IGNORE INTO ${DATA_KEYS_TABLE} (id, subject, doc) VALUES (?, ?, ?)`);
    this.db!.transaction(() => {
      for (const key of keys) insert.run(key._id, key.subject, JSON.stringify(key));
    })();
  }

  async findDataKeys(query: DataKeyQuery): Promise<DataKeyRecord[]> {
    await this.database();
    const rows =
      'ids' in query
        ? query.ids.flatMap((id) => this.statement(`SELECT doc FROM ${DATA_KEYS_TABLE} WHERE id = ?`).all(id))
        : query.after === null
          ? this.statement(`SELECT doc FROM ${DATA_KEYS_TABLE} ORDER BY id LIMIT ?`).all(query.limit)
          : this.statement(`SELECT doc FROM ${DATA_KEYS_TABLE} WHERE id > ? ORDER BY id LIMIT ?`).all(query.after, query.limit);
    return rows.map((row) => reviveDataKey(JSON.parse((row as { doc: string }).doc) as Record<string, unknown>));
  }

  async updateDataKeys(keys: DataKeyRecord[]): Promise<void> {
    if (keys.length === 0) return;
    await this.database();
    // No upsert: a key erased since it was read stays erased.
    const update = this.statement(`UPDATE ${DATA_KEYS_TABLE} SET subject = ?, doc = ? WHERE id = ?`);
    this.db!.transaction(() => {
      for (const key of keys) update.run(key.subject, JSON.stringify(key), key._id);
    })();
  }

  async deleteDataKeys(subjects: string[]): Promise<number> {
    await this.database();
    const db = this.db!;
    const remove = this.statement(`DELETE FROM ${DATA_KEYS_TABLE} WHERE subject = ?`);
    let deleted = 0;
    // An erasure must not leave the wrapped key in a free page or in the WAL: overwrite what is
    // deleted (for this statement only: the TTL's deletes need not pay for it), then checkpoint
    // the WAL and truncate it, so the key's old page image goes too.
    db.pragma('secure_delete = ON');
    try {
      db.transaction(() => {
        for (const subject of subjects) deleted += remove.run(subject).changes;
      })();
    } finally {
      db.pragma('secure_delete = OFF');
    }
    if (deleted > 0) db.pragma('wal_checkpoint(TRUNCATE)');
    return deleted;
  }

  async insertHold(hold: AuditHold): Promise<void> {
    await this.database();
    this.statement(`INSERT OR IGNORE INTO ${HOLDS_TABLE} (id, doc) VALUES (?, ?)`).run(hold._id, JSON.stringify(hold));
  }

  async findHolds(): Promise<AuditHold[]> {
    await this.database();
    return this.statement(`SELECT doc FROM ${HOLDS_TABLE} ORDER BY id`)
      .all()
      .map((row) => reviveHold((row as { doc: string }).doc));
  }

  async releaseHold(id: string, releasedAt: Date, releasedBy: string | null): Promise<{ hold: AuditHold; changed: boolean } | null> {
    await this.database();
    const row = this.statement(`SELECT doc FROM ${HOLDS_TABLE} WHERE id = ?`).get(id) as { doc: string } | undefined;
    if (!row) return null;
    const hold = reviveHold(row.doc);
    if (hold.releasedAt !== null) return { hold, changed: false };
    const released = { ...hold, releasedAt, releasedBy };
    // Read and write in one synchronous step: no other release interleaves in this process.
    this.statement(`UPDATE ${HOLDS_TABLE} SET doc = ? WHERE id = ?`).run(JSON.stringify(released), id);
    return { hold: released, changed: true };
  }

  async markHeld(filter: AuditFilter, holdId: string): Promise<number> {
    await this.database();
    const bits = EXPIRE_AT.bit + HOLDS.bit;
    const update = this.statement(`UPDATE ${TABLE} SET "expireAt" = NULL, holds = ?, absent = absent & ~${bits} WHERE row = ?`);
    return this.query(filter, (where, params) => {
      const rows = this.statement(`SELECT row, holds FROM ${TABLE} WHERE ${where}`).all(...params) as Array<{ row: number; holds: string | null }>;
      this.db!.transaction(() => {
        for (const { row, holds } of rows) {
          const ids = holds === null ? [] : (JSON.parse(holds) as string[]);
          update.run(JSON.stringify(ids.includes(holdId) ? ids : [...ids, holdId]), row);
        }
      })();
      return rows.length;
    });
  }

  async unmarkHeld(holdId: string, expiryOf: ExpiryOf): Promise<number> {
    await this.database();
    const keep = this.statement(`UPDATE ${TABLE} SET holds = ? WHERE row = ?`);
    // Released: no holds (absent), and the expiry its rule gives (absent when none applies).
    const release = this.statement(`UPDATE ${TABLE} SET holds = NULL, "expireAt" = ?, absent = (absent | ${HOLDS.bit} | ?) & ~? WHERE row = ?`);
    return this.query({ holds: holdId }, (where, params) => {
      const rows = this.statement(`SELECT row, holds, "date", "action", "collectionName" FROM ${TABLE} WHERE ${where}`).all(...params) as Array<{
        row: number;
        holds: string;
        date: number;
        action: string | null;
        collectionName: string | null;
      }>;
      let released = 0;
      this.db!.transaction(() => {
        for (const { row, holds, date, action, collectionName } of rows) {
          const rest = (JSON.parse(holds) as string[]).filter((id) => id !== holdId);
          if (rest.length > 0) {
            keep.run(JSON.stringify(rest), row);
            continue;
          }
          const expireAt = expiryOf({ date: new Date(date), action, collectionName });
          const absentBit = expireAt === undefined ? EXPIRE_AT.bit : 0;
          release.run(expireAt ? expireAt.getTime() : null, absentBit, absentBit === 0 ? EXPIRE_AT.bit : 0, row);
          released += 1;
        }
      })();
      return released;
    });
  }

  async retentionPolicy(): Promise<string | null> {
    await this.database();
    const row = this.statement(`SELECT value FROM ${META_TABLE} WHERE key = 'retention'`).get() as { value: string } | undefined;
    return row?.value ?? null;
  }

  async setRetentionPolicy(policy: string): Promise<void> {
    await this.database();
    this.statement(`INSERT INTO ${META_TABLE} (key, value) VALUES ('retention', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`).run(policy);
  }

  async restamp(filter: AuditFilter, ttlSeconds: number | null | undefined): Promise<number> {
    await this.database();
    const bit = EXPIRE_AT.bit;
    const set =
      ttlSeconds === undefined
        ? `"expireAt" = NULL, absent = absent | ${bit}`
        : ttlSeconds === null
          ? `"expireAt" = NULL, absent = absent & ~${bit}`
          : `"expireAt" = "date" + ${ttlSeconds * 1000}, absent = absent & ~${bit}`;
    // One statement: SQLite runs it in its own transaction.
    return this.query(filter, (where, params) => this.statement(`UPDATE ${TABLE} SET ${set} WHERE ${where} AND "holds" IS NULL`).run(...params).changes);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = null;
    await this.ready?.catch(() => undefined);
    await this.sweeping?.catch(() => undefined);
    const db = this.db;
    this.db = null;
    this.statements.clear();
    if (db?.open) {
      try {
        db.pragma('optimize'); // keeps the query planner's statistics current, cheaply
      } finally {
        db.close();
      }
    }
  }
}

/**
 * Entries kept in one SQLite database file, through better-sqlite3 (an optional peer dependency:
 * `npm install better-sqlite3@12`): no database server needed, memory flat at any size.
 */
export function fileStore(options: FileStoreOptions): AuditStore {
  if (options === null || typeof options !== 'object' || typeof options.path !== 'string' || options.path === '') {
    throw new AuditLogConfigError('EAUDIT_OPTION', 'path', `fileStore needs a file path, like fileStore({ path: './data/audit.db' }); got ${show(options)}.`);
  }
  const sweep = checkInterval(options.sweepIntervalMs, 'sweepIntervalMs', 60_000);
  checkInterval(options.compactionIntervalMs, 'compactionIntervalMs', 0);
  return new SqliteAuditStore(loadSqlite(), nodePath.resolve(options.path), sweep);
}
