/**
 * The MongoDB store, through mongoose: the `auditLog` collection with a TTL index on `expireAt`
 * (`expireAfterSeconds: 0`: each entry expires at its own date, stamped from the retention rules
 * or `ttl`; entries without a date there are kept). Like connect-mongo, it never closes a
 * connection it did not open, and it works whether the app connects before or after `auditLog()`
 * is called. Unlike mongoose's autoIndex (and rest-hapi), it reconciles the TTL on start: 0.1's
 * TTL index on `date` becomes a plain one once its entries have their `expireAt`, and a
 * conflicting index is reported instead of ignored.
 */
import type { Connection, Model } from 'mongoose';
import type { AssociationType, AuditEntry } from '../entry';
import { AuditLogConfigError, show } from '../errors';
import type { AuditCheckpoint } from '../integrity/checkpoint';
import type { DataKeyQuery, DataKeyRecord } from '../encryption/data-key';
import { inferAssociation } from './mongo-associations';
import { buildSchema, QUERY_INDEXES } from './mongo-schema';
import {
  parseReadPreference,
  parseWriteConcern,
  type MongoReadPreference,
  type MongoWriteConcern,
  type ResolvedReadPreference,
  type ResolvedWriteConcern,
} from './mongo-deployment';
import type { AuditFilter, AuditHold, AuditQuery, AuditStore, CheckpointQuery, ExpiryOf, StatsQuery, StoreInitConfig, StoreStats } from './types';

/**
 * A mongoose `Connection` (mongoose 8 or 9), as far as the types need to say. Structural, so the
 * package's types compile in apps without mongoose (`skipLibCheck: false`); `mongoStore()`
 * checks at runtime that it is a real connection.
 */
export interface MongooseConnectionLike {
  readonly readyState: number;
  model(name: string, ...rest: never[]): unknown;
}

export interface MongoStoreOptions {
  /** A mongoose connection. Defaults to mongoose's default connection (`mongoose.connect()`). */
  connection?: MongooseConnectionLike;
  /** The collection. Defaults to `'auditLog'`, as in rest-hapi. */
  collection?: string;
  /** How long to wait for the connection to open before reporting it, in ms. Defaults to 30000. */
  connectTimeoutMs?: number;
  /** Create the query indexes (user, action, collectionName, statusCode, documents, requestId). Defaults to `true`. */
  queryIndexes?: boolean;
  /**
   * The longest MongoDB may work on one read (find, count, findById), in ms: sent as `maxTimeMS`,
   * so a query too broad for the collection is stopped by the server instead of holding a
   * connection and the caller. Defaults to 10000.
   */
  maxTimeMS?: number;
  /**
   * The write concern of audit writes (entries and checkpoints). Defaults to `{ w: 'majority' }`:
   * an entry acknowledged by one node and lost in a failover is a lost entry. `j: true` also
   * waits for the journal. Passed per write: the connection's own default is left alone.
   */
  writeConcern?: MongoWriteConcern;
  /**
   * Where the query routes' reads go (list, count, by id, export), e.g. `'secondaryPreferred'` to
   * keep them off the primary; verification's and export's checkpoint reads follow it too.
   * Defaults to `'primary'`. The writer's own read (the newest checkpoint at start) always goes to the primary. Passed per read: the connection's default is left alone.
   */
  readPreference?: MongoReadPreference;
}

type Mongoose = typeof import('mongoose');
type Doc = Record<string, unknown>;

function loadMongoose(): Mongoose {
  try {
    return require('mongoose') as Mongoose;
  } catch {
    throw new AuditLogConfigError(
      'EAUDIT_NO_MONGOOSE',
      'store',
      "the default store is MongoDB through mongoose, which is not installed. Run 'npm install mongoose', or pass store: fileStore({ path }) or memoryStore().",
    );
  }
}

function codeOf(error: unknown): number | undefined {
  return (error as { code?: number }).code;
}

/** A read MongoDB stopped at maxTimeMS (code 50, MaxTimeMSExpired), said so with what to do about it. */
function explainTimeLimit(error: unknown, maxTimeMS: number): never {
  if (codeOf(error) === 50) {
    throw Object.assign(
      new Error(
        `MongoDB stopped the query after maxTimeMS (${maxTimeMS} ms, MaxTimeMSExpired): narrow it (from/to, user, collectionName, documents) or raise mongoStore({ maxTimeMS }).`,
      ),
      { code: 'EAUDIT_QUERY_TIMEOUT', cause: error },
    );
  }
  throw error;
}

/** True when every failure in a bulk insert is a duplicate id: a retried batch, already stored. */
function onlyDuplicates(error: unknown): boolean {
  const writeErrors = (error as { writeErrors?: Array<{ code?: number; err?: { code?: number } }> }).writeErrors;
  if (Array.isArray(writeErrors) && writeErrors.length > 0) return writeErrors.every((e) => (e.code ?? e.err?.code) === 11000);
  return codeOf(error) === 11000;
}

/**
 * Failures that retrying cannot fix, because they are about the documents: a value the driver
 * cannot encode, a document over 16 MiB, one the server refuses. Everything else (network,
 * elections, timeouts) is the store being unavailable for now.
 */
const REJECTED_CODES = new Set([2 /* BadValue */, 121 /* DocumentValidationFailure */, 10334 /* BSONObjectTooLarge */, 17280 /* KeyTooLong */]);

function isRejected(error: unknown): boolean {
  const { name, message } = error as { name?: string; message?: string };
  // Encoding fails with a BSONError, or a RangeError when a document overflows the driver's
  // buffer (over ~17 MiB) or nests too deep; 16-17 MiB is refused with an argument error.
  if (name === 'BSONError' || name === 'RangeError') return true;
  if (name === 'MongoInvalidArgumentError' && /larger than the maximum size/i.test(message ?? '')) return true;
  const writeErrors = (error as { writeErrors?: Array<{ code?: number; err?: { code?: number } }> }).writeErrors;
  if (!Array.isArray(writeErrors) || writeErrors.length === 0) return false;
  return writeErrors.every((e) => {
    const code = e.code ?? e.err?.code;
    return code === 11000 || (code !== undefined && REJECTED_CODES.has(code));
  });
}

function sameKey(a: unknown, b: Record<string, number>): boolean {
  if (a === null || typeof a !== 'object') return false;
  const entries = Object.entries(a as Record<string, unknown>);
  return entries.length === Object.keys(b).length && entries.every(([key, value], i) => Object.keys(b)[i] === key && Number(value) === b[key]);
}

class MongoAuditStore implements AuditStore {
  private model: Model<Doc> | null = null;
  private ready: Promise<void> | null = null;
  /** The default ttl, for entries given to insertMany without an `expireAt`. */
  private ttlSeconds: number | null = null;

  constructor(
    private readonly mongoose: Mongoose,
    private readonly connection: Connection,
    private readonly collection: string,
    private readonly connectTimeoutMs: number,
    private readonly queryIndexes: boolean,
    private readonly maxTimeMS: number,
    private readonly writeConcern: ResolvedWriteConcern,
    readPreference: ResolvedReadPreference,
  ) {
    const { ReadPreference } = mongoose.mongo;
    this.readPreference = new ReadPreference(readPreference.mode, readPreference.tags, { maxStalenessSeconds: readPreference.maxStalenessSeconds });
  }

  /** The driver types `w` as a number or 'majority'; a custom tag name is a string the server resolves. */
  private get driverWriteConcern(): { w: number | 'majority'; j?: boolean; wtimeoutMS?: number } {
    return this.writeConcern as { w: number | 'majority' };
  }

  /** The driver's ReadPreference for the query routes' reads. */
  private readonly readPreference: InstanceType<Mongoose['mongo']['ReadPreference']>;

  private getModel(): Model<Doc> {
    if (!this.model) {
      const name = `ExpressAuditLog:${this.collection}`;
      this.model =
        (this.connection.models[name] as Model<Doc> | undefined) ??
        this.connection.model<Doc>(name, buildSchema(this.mongoose, this.collection), this.collection);
    }
    return this.model;
  }

  private async connected(): Promise<void> {
    if (this.connection.readyState === 1) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no MongoDB connection after ${this.connectTimeoutMs} ms: call mongoose.connect() or pass store: mongoStore({ connection })`)),
        this.connectTimeoutMs,
      );
      timer.unref();
    });
    const open = new Promise<void>((resolve) => {
      const check = () => {
        if (this.connection.readyState === 1) {
          this.connection.off('connected', check);
          resolve();
        }
      };
      this.connection.on('connected', check);
      check();
    });
    try {
      await Promise.race([open, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  init(config: StoreInitConfig): Promise<void> {
    this.ttlSeconds = config.ttlSeconds;
    this.ready ??= this.open(config).catch((error: unknown) => {
      this.ready = null; // let the writer retry: the database may come up later
      throw error;
    });
    return this.ready;
  }

  private async open(config: StoreInitConfig): Promise<void> {
    await this.connected();
    const model = this.getModel();
    try {
      await model.createCollection();
    } catch (error) {
      if (codeOf(error) !== 48) throw error; // 48: NamespaceExists
    }
    await this.reconcileTtl(model, config);
    if (this.queryIndexes) {
      for (const { key, name } of QUERY_INDEXES) {
        try {
          await model.collection.createIndex(key, { name });
        } catch (error) {
          config.warn?.('EAUDIT_INDEX', `could not create index ${name} on ${this.collection}: ${(error as Error).message}. Queries still work, more slowly.`);
        }
      }
    }
    if (config.integrity) await this.prepareIntegrity(model, config);
    if (config.tenants) {
      try {
        await model.collection.createIndex({ tenant: 1, date: -1 }, { name: 'tenant_1_date_-1' });
      } catch (error) {
        config.warn?.(
          'EAUDIT_INDEX',
          `could not create index tenant_1_date_-1 on ${this.collection}: ${(error as Error).message}. Queries still work, more slowly.`,
        );
      }
    }
    if (config.encryption) await this.prepareEncryption(model, config);
  }

  /** `?user=` filters match the blind index, and an erasure deletes a subject's keys: both indexed. */
  private async prepareEncryption(model: Model<Doc>, config: StoreInitConfig): Promise<void> {
    const indexes: Array<[{ createIndex(key: Record<string, 1 | -1>, options: { name: string }): Promise<unknown> }, Record<string, 1 | -1>, string]> = [
      [model.collection, { subject: 1, date: 1 }, 'subject_1_date_1'],
      [this.dataKeyCollection(), { subject: 1 }, 'subject_1'],
    ];
    for (const [collection, key, name] of indexes) {
      try {
        await collection.createIndex(key, { name });
      } catch (error) {
        config.warn?.(
          'EAUDIT_INDEX',
          `could not create index ${name} for encryption: ${(error as Error).message}. User filters and erasures still work, more slowly.`,
        );
      }
    }
  }

  /** The companion collection `<collection>.keys`: wrapped data keys, no TTL index. */
  private dataKeyCollection() {
    return this.connection.db!.collection<DataKeyRecord & Doc>(`${this.collection}.keys`);
  }

  async insertDataKeys(keys: DataKeyRecord[]): Promise<void> {
    if (keys.length === 0) return;
    await this.connected();
    try {
      await this.dataKeyCollection().insertMany(
        keys.map((key) => ({ ...key })),
        { ordered: false },
      );
    } catch (error) {
      if (!onlyDuplicates(error)) throw error; // a retry: already written
    }
  }

  async findDataKeys(query: DataKeyQuery): Promise<DataKeyRecord[]> {
    await this.connected();
    const collection = this.dataKeyCollection();
    if ('ids' in query)
      return (await collection
        .find({ _id: { $in: [...query.ids] } })
        .maxTimeMS(this.maxTimeMS)
        .toArray()) as DataKeyRecord[];
    const filter = query.after === null ? {} : { _id: { $gt: query.after } };
    return (await collection.find(filter).sort({ _id: 1 }).limit(query.limit).maxTimeMS(this.maxTimeMS).toArray()) as DataKeyRecord[];
  }

  async updateDataKeys(keys: DataKeyRecord[]): Promise<void> {
    if (keys.length === 0) return;
    await this.connected();
    // No upsert: a key erased since it was read stays erased.
    await this.dataKeyCollection().bulkWrite(
      keys.map((key) => ({
        updateOne: { filter: { _id: key._id }, update: { $set: { subject: key.subject, wrapped: key.wrapped, masterKeyId: key.masterKeyId } } },
      })),
      { ordered: false },
    );
  }

  async deleteDataKeys(subjects: string[]): Promise<number> {
    await this.connected();
    return (await this.dataKeyCollection().deleteMany({ subject: { $in: subjects } })).deletedCount;
  }

  /** Verification reads each chain in order, and the newest checkpoint at start: both indexed. */
  private async prepareIntegrity(model: Model<Doc>, config: StoreInitConfig): Promise<void> {
    const indexes: Array<[{ createIndex(key: Record<string, 1 | -1>, options: { name: string }): Promise<unknown> }, Record<string, 1 | -1>, string]> = [
      [model.collection, { chain: 1, seq: 1 }, 'chain_1_seq_1'],
      [this.checkpointCollection(), { at: -1, _id: -1 }, 'at_-1__id_-1'],
    ];
    for (const [collection, key, name] of indexes) {
      try {
        await collection.createIndex(key, { name });
      } catch (error) {
        config.warn?.('EAUDIT_INDEX', `could not create index ${name} for integrity: ${(error as Error).message}. Verification still works, more slowly.`);
      }
    }
  }

  /** The companion collection `<collection>.checkpoints`: no TTL index, so checkpoints outlive the entries they cover. */
  private checkpointCollection() {
    return this.connection.db!.collection<AuditCheckpoint & Doc>(`${this.collection}.checkpoints`);
  }

  async insertCheckpoints(checkpoints: AuditCheckpoint[]): Promise<void> {
    if (checkpoints.length === 0) return;
    await this.connected();
    try {
      await this.checkpointCollection().insertMany(
        checkpoints.map((checkpoint) => ({ ...checkpoint })),
        { ordered: false, writeConcern: this.driverWriteConcern },
      );
    } catch (error) {
      if (!onlyDuplicates(error)) throw error; // a retry: already written
    }
  }

  async findCheckpoints(query: CheckpointQuery): Promise<AuditCheckpoint[]> {
    await this.connected();
    const filter = query.after === null ? {} : { _id: { $gt: query.after } };
    // Verification and export read these beside the entries: with the same read preference.
    return (await this.checkpointCollection()
      .find(filter, { readPreference: this.readPreference })
      .sort({ _id: 1 })
      .limit(query.limit)
      .maxTimeMS(this.maxTimeMS)
      .toArray()) as AuditCheckpoint[];
  }

  async latestCheckpoint(): Promise<AuditCheckpoint | null> {
    await this.connected();
    const [latest] = await this.checkpointCollection().find({}).sort({ at: -1, _id: -1 }).limit(1).maxTimeMS(this.maxTimeMS).toArray();
    return (latest as AuditCheckpoint | undefined) ?? null;
  }

  /**
   * The TTL as 0.2 keeps it, whatever state the collection is in: a TTL index on `expireAt` with
   * `expireAfterSeconds: 0`, entries lacking `expireAt` given `date + ttl` (0.1's, or written while
   * no ttl was set), then `date` as a plain index (0.1 had the TTL there). In that order, so an
   * interrupted start leaves nothing unexpirable: the next start finishes it.
   */
  private async reconcileTtl(model: Model<Doc>, config: StoreInitConfig): Promise<void> {
    type IndexInfo = { name: string; key: unknown; expireAfterSeconds?: number; [option: string]: unknown };
    const indexes = (await model.collection.listIndexes().toArray()) as IndexInfo[];
    const managed = (index: IndexInfo, field: string): boolean => {
      const extra = Object.keys(index).filter((option) => !['v', 'key', 'name', 'ns', 'expireAfterSeconds', 'background'].includes(option));
      if (extra.length === 0) return true;
      config.warn?.(
        'EAUDIT_TTL_INDEX_CONFLICT',
        `the index ${index.name} on ${this.collection}.${field} was created elsewhere with options ${extra.join(', ')}; it was left as it is (expireAfterSeconds ${index.expireAfterSeconds ?? 'none'}). Drop it to let express-audit-log manage it.`,
      );
      return false;
    };

    const expiry = indexes.find((index) => sameKey(index.key, { expireAt: 1 }));
    if (!expiry) await model.collection.createIndex({ expireAt: 1 }, { name: 'expireAt_1', expireAfterSeconds: 0 });
    else if (expiry.expireAfterSeconds !== 0 && managed(expiry, 'expireAt')) {
      await this.connection.db!.command({ collMod: this.collection, index: { keyPattern: { expireAt: 1 }, expireAfterSeconds: 0 } });
    }

    if (config.ttlSeconds !== null) await this.backfillExpiry(model, config.ttlSeconds);

    const byDate = indexes.find((index) => sameKey(index.key, { date: 1 }));
    if (!byDate) {
      await model.collection.createIndex({ date: 1 }, { name: 'date_1' });
      return;
    }
    if (byDate.expireAfterSeconds === undefined || !managed(byDate, 'date')) return;
    // MongoDB cannot unset expireAfterSeconds in place: replace the index with a plain one.
    await model.collection.dropIndex(byDate.name);
    await model.collection.createIndex({ date: 1 }, { name: byDate.name });
  }

  /** Gives `date + ttl` to entries without `expireAt`, a thousand per round trip. */
  private async backfillExpiry(model: Model<Doc>, ttlSeconds: number): Promise<void> {
    const missing = { expireAt: { $exists: false } };
    for (;;) {
      const docs = await model.collection.find(missing, { projection: { date: 1 }, limit: 1000 }).toArray();
      const operations = docs
        .filter((doc) => doc.date instanceof Date)
        .map((doc) => ({
          updateOne: { filter: { _id: doc._id, ...missing }, update: { $set: { expireAt: new Date((doc.date as Date).getTime() + ttlSeconds * 1000) } } },
        }));
      if (operations.length > 0) await model.collection.bulkWrite(operations, { ordered: false });
      // Documents without a valid date cannot get one: stop rather than loop on them.
      if (docs.length < 1000 || operations.length === 0) return;
    }
  }

  /** The companion collection `<collection>.holds`: no TTL index. */
  private holdCollection() {
    return this.connection.db!.collection<Doc>(`${this.collection}.holds`);
  }

  async insertHold(hold: AuditHold): Promise<void> {
    await this.connected();
    try {
      await this.holdCollection().insertOne({ ...hold } as never);
    } catch (error) {
      if (!onlyDuplicates(error)) throw error;
    }
  }

  async findHolds(): Promise<AuditHold[]> {
    await this.connected();
    return (await this.holdCollection().find({}).sort({ _id: 1 }).maxTimeMS(this.maxTimeMS).toArray()) as unknown as AuditHold[];
  }

  async releaseHold(id: string, releasedAt: Date, releasedBy: string | null): Promise<{ hold: AuditHold; changed: boolean } | null> {
    await this.connected();
    // Conditional on still being active: of two instances releasing at once, one changes it.
    const result = await this.holdCollection().updateOne({ _id: id, releasedAt: null } as Doc, { $set: { releasedAt, releasedBy } });
    const hold = (await this.holdCollection().findOne({ _id: id } as Doc)) as unknown as AuditHold | null;
    return hold ? { hold, changed: result.modifiedCount === 1 } : null;
  }

  async markHeld(filter: AuditFilter, holdId: string): Promise<number> {
    const model = this.getModel();
    const cast = model.find(filter).cast(model) as Doc;
    const result = await model.collection.updateMany(cast, { $set: { expireAt: null }, $addToSet: { holds: holdId } });
    return result.matchedCount;
  }

  /** The companion collection `<collection>.meta`: the retention policy last applied. */
  private metaCollection() {
    return this.connection.db!.collection<Doc>(`${this.collection}.meta`);
  }

  async retentionPolicy(): Promise<string | null> {
    await this.connected();
    const doc = await this.metaCollection().findOne({ _id: 'retention' } as Doc);
    return typeof doc?.policy === 'string' ? doc.policy : null;
  }

  async setRetentionPolicy(policy: string): Promise<void> {
    await this.connected();
    await this.metaCollection().updateOne({ _id: 'retention' } as Doc, { $set: { policy } }, { upsert: true });
  }

  async restamp(filter: AuditFilter, ttlSeconds: number | null | undefined): Promise<number> {
    const model = this.getModel();
    const cast = model.find(filter).cast(model) as Doc;
    // A pipeline update computes each entry's own date + ttl on the server: one statement, no round trip per entry.
    const update =
      ttlSeconds === undefined ? [{ $unset: 'expireAt' }] : [{ $set: { expireAt: ttlSeconds === null ? null : { $add: ['$date', ttlSeconds * 1000] } } }];
    const result = await model.collection.updateMany({ $and: [cast, { holds: { $exists: false } }] }, update);
    return result.matchedCount;
  }

  async unmarkHeld(holdId: string, expiryOf: ExpiryOf): Promise<number> {
    const model = this.getModel();
    // Entries other holds still cover only lose this id; the rest get their expiry back, in pages.
    await model.collection.updateMany({ holds: holdId, 'holds.1': { $exists: true } }, { $pull: { holds: holdId } } as never);
    let released = 0;
    for (;;) {
      const docs = await model.collection.find({ holds: [holdId] }, { projection: { date: 1, action: 1, collectionName: 1 }, limit: 1000 }).toArray();
      if (docs.length === 0) return released;
      const operations = docs.map((doc) => {
        const expireAt = expiryOf({
          date: doc.date as Date,
          action: (doc.action as string | null) ?? null,
          collectionName: (doc.collectionName as string | null) ?? null,
        });
        const update = expireAt === undefined ? { $unset: { holds: '', expireAt: '' } } : { $unset: { holds: '' }, $set: { expireAt } };
        return { updateOne: { filter: { _id: doc._id, holds: [holdId] }, update } };
      });
      await model.collection.bulkWrite(operations as never, { ordered: false });
      released += docs.length;
    }
  }

  async insertMany(entries: AuditEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const model = this.getModel();
    const { ObjectId } = this.mongoose.Types;
    const ttl = this.ttlSeconds;
    const docs = entries.map((entry) =>
      ttl !== null && !('expireAt' in entry)
        ? { ...entry, _id: new ObjectId(entry._id), expireAt: new Date(entry.date.getTime() + ttl * 1000) }
        : { ...entry, _id: new ObjectId(entry._id) },
    );
    try {
      await model.collection.insertMany(docs, { ordered: false, writeConcern: this.driverWriteConcern });
    } catch (error) {
      if (onlyDuplicates(error)) return;
      if (isRejected(error) && typeof error === 'object' && error !== null) Object.assign(error, { rejected: true });
      throw error;
    }
  }

  async find(query: AuditQuery): Promise<{ docs: Partial<AuditEntry>[]; total: number }> {
    const sort: Record<string, 1 | -1> = {};
    for (const [field, direction] of query.sort) sort[field] = direction;
    if (!('_id' in sort)) sort._id = query.sort[0]?.[1] ?? -1;
    const projection = query.select ? Object.fromEntries(query.select.map((field) => [field, 1 as const])) : undefined;
    const found = this.read(query.filter, { sort, skip: query.skip, limit: query.limit, projection });
    const [docs, total] = await Promise.all([found, this.countQuery(query.filter)]).catch((error: unknown) => explainTimeLimit(error, this.maxTimeMS));
    return { docs: docs.map((doc) => this.toEntry(doc)), total };
  }

  async count(filter: AuditFilter): Promise<number> {
    return this.countQuery(filter).catch((error: unknown) => explainTimeLimit(error, this.maxTimeMS));
  }

  /** The count through the driver, the filter cast as read() casts it, so it carries the same read preference. */
  private countQuery(filter: AuditFilter): Promise<number> {
    const model = this.getModel();
    const cast = model.find(filter).cast(model) as Doc;
    return model.collection.countDocuments(cast, { maxTimeMS: this.maxTimeMS, readPreference: this.readPreference });
  }

  /**
   * One aggregation on the server: `$match` (the date range uses the date index), then a
   * `$facet` of buckets (`date - date % interval`, as a long) and groups, each a `$group`.
   * Its answer is one document, bounded: at most MAX_BUCKETS buckets and `top` groups.
   */
  async stats(query: StatsQuery): Promise<StoreStats> {
    const model = this.getModel();
    const cast = model.find(query.filter).cast(model) as Doc;
    // isError is always a boolean (the builder and the manual-entry parser see to it): $cond on it as is, cheaper than an $eq per entry.
    const counts = { count: { $sum: 1 }, errors: { $sum: { $cond: ['$isError', 1, 0] } } };
    const millis = { $toLong: '$date' };
    const facets: Doc = {
      buckets: [{ $group: { _id: { $subtract: [millis, { $mod: [millis, query.intervalMs] }] }, ...counts } }, { $sort: { _id: 1 } }],
    };
    if (query.groupBy) {
      const key = `$${query.groupBy}`;
      facets.groups = [{ $group: { _id: key, ...counts } }, { $sort: { count: -1, _id: 1 } }, { $limit: query.top }];
      facets.groupsTotal = [{ $group: { _id: key } }, { $count: 'n' }];
    }
    const [result] = (await model.collection
      .aggregate([{ $match: cast }, { $facet: facets }], { maxTimeMS: this.maxTimeMS, readPreference: this.readPreference })
      .toArray()
      .catch((error: unknown) => explainTimeLimit(error, this.maxTimeMS))) as Array<{
      buckets: Array<{ _id: unknown; count: number; errors: number }>;
      groups?: Array<{ _id: unknown; count: number; errors: number }>;
      groupsTotal?: Array<{ n: number }>;
    }>;
    return {
      buckets: (result?.buckets ?? []).map(({ _id, count, errors }) => ({ start: Number(_id), count, errors })),
      groups: (result?.groups ?? []).map(({ _id, count, errors }) => ({ key: (_id ?? null) as string | number | boolean | null, count, errors })),
      groupsTotal: result?.groupsTotal?.[0]?.n ?? 0,
    };
  }

  async findById(id: string): Promise<AuditEntry | null> {
    const [doc] = await this.read({ _id: id }, { limit: 1 }).catch((error: unknown) => explainTimeLimit(error, this.maxTimeMS));
    return doc ? (this.toEntry(doc) as AuditEntry) : null;
  }

  /**
   * Documents through the driver, the filter cast by mongoose as its queries cast it. Not a
   * mongoose query: the driver must be given a prototype-less `fieldsAsRaw`. bson looks each
   * field name up in that map, and with the driver's default `{}`, an array under a key named
   * like an Object.prototype member (`constructor`, `valueOf`…) matches and comes back as raw
   * BSON bytes: `{"constructor":[{}]}` would read back as a Buffer. Mongoose drops the option.
   */
  private read(filter: AuditFilter, options: { sort?: Record<string, 1 | -1>; skip?: number; limit?: number; projection?: Record<string, 1> }): Promise<Doc[]> {
    const model = this.getModel();
    const cast = model.find(filter).cast(model) as Doc;
    return model.collection
      .find(cast, { ...options, maxTimeMS: this.maxTimeMS, readPreference: this.readPreference, fieldsAsRaw: Object.create(null) })
      .toArray() as Promise<Doc[]>;
  }

  private toEntry(doc: Doc): Partial<AuditEntry> {
    const id = doc._id as { toHexString?: () => string } | string;
    return { ...doc, _id: typeof id === 'string' ? id : (id.toHexString?.() ?? String(id)) } as Partial<AuditEntry>;
  }

  associationType(owner: string, child: string): AssociationType | null {
    return inferAssociation(this.connection, owner, child);
  }

  async close(): Promise<void> {
    // The connection belongs to the app: wait for our own work, never disconnect it.
    await this.ready?.catch(() => undefined);
  }
}

/** The MongoDB store. With no connection given it uses mongoose's default connection. */
export function mongoStore(options: MongoStoreOptions = {}): AuditStore {
  if (options === null || typeof options !== 'object') {
    throw new AuditLogConfigError(
      'EAUDIT_OPTION',
      'mongoStore',
      `mongoStore options must be an object like { connection, collection: 'auditLog' }; got ${show(options)}.`,
    );
  }
  const known = ['connection', 'collection', 'connectTimeoutMs', 'queryIndexes', 'maxTimeMS', 'writeConcern', 'readPreference'];
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) throw new AuditLogConfigError('EAUDIT_OPTION', key, `mongoStore got unknown option '${key}'; known: ${known.join(', ')}.`);
  }
  const mongoose = loadMongoose();
  const connection = (options.connection ?? mongoose.connection) as Connection;
  if (!connection || typeof connection.model !== 'function') {
    throw new AuditLogConfigError(
      'EAUDIT_OPTION',
      'connection',
      `mongoStore connection must be a mongoose Connection (mongoose.connection or mongoose.createConnection(uri)); got ${show(options.connection)}.`,
    );
  }
  const collection = options.collection ?? 'auditLog';
  if (typeof collection !== 'string' || !/^[A-Za-z_][A-Za-z0-9_.-]{0,119}$/.test(collection) || collection.startsWith('system.')) {
    throw new AuditLogConfigError(
      'EAUDIT_OPTION',
      'collection',
      `mongoStore collection must be a valid collection name like 'auditLog'; got ${show(collection)}.`,
    );
  }
  const timeout = options.connectTimeoutMs ?? 30_000;
  if (!Number.isInteger(timeout) || timeout < 1) {
    throw new AuditLogConfigError(
      'EAUDIT_OPTION',
      'connectTimeoutMs',
      `mongoStore connectTimeoutMs must be a positive whole number of ms; got ${show(timeout)}.`,
    );
  }
  const maxTimeMS = options.maxTimeMS ?? 10_000;
  if (!Number.isInteger(maxTimeMS) || maxTimeMS < 1 || maxTimeMS > 2_147_483_647) {
    throw new AuditLogConfigError(
      'EAUDIT_OPTION',
      'maxTimeMS',
      `mongoStore maxTimeMS must be a whole number of ms from 1 to 2147483647, like 10000; got ${show(options.maxTimeMS)}.`,
    );
  }
  const writeConcern = parseWriteConcern(options.writeConcern);
  const readPreference = parseReadPreference(options.readPreference);
  return new MongoAuditStore(mongoose, connection, collection, timeout, options.queryIndexes ?? true, maxTimeMS, writeConcern, readPreference);
}
