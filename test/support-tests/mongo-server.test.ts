/**
 * The in-process MongoDB wire-protocol server, driven by the real mongoose driver over TCP.
 * Raw sockets are used only to send what no driver would: malformed and split frames.
 */
import net from 'node:net';
import { BSON, Long, type Document } from 'bson';
import mongoose, { Schema } from 'mongoose';
import { startMongoTestServer, type MongoTestServer } from '../support/mongo-server';
import { connect, isNetworkError, nextCommand, rejection, until } from './helpers';

let server: MongoTestServer;
const opened: mongoose.Connection[] = [];

async function conn(options: mongoose.ConnectOptions = {}): Promise<mongoose.Connection> {
  const c = await connect(server, options);
  opened.push(c);
  return c;
}

function db(c: mongoose.Connection): mongoose.mongo.Db {
  if (!c.db) throw new Error('connection has no db');
  return c.db;
}

const auditSchema = (): Schema => new Schema({ date: { type: Date, expires: 86400 }, user: String, action: String });

beforeAll(async () => {
  server = await startMongoTestServer();
});
afterEach(async () => {
  await Promise.all(opened.splice(0).map((c) => c.close()));
});
afterAll(async () => {
  await server.close();
});

describe('handshake and server commands', () => {
  test('listens on 127.0.0.1, answers ping/buildInfo, and 59 for unknown commands', async () => {
    expect(server.uri).toBe(`mongodb://127.0.0.1:${server.port}`);
    const c = await conn();
    expect(await db(c).admin().ping()).toMatchObject({ ok: 1 });
    expect(await db(c).admin().buildInfo()).toMatchObject({ version: '7.0.0', ok: 1 });
    expect(await rejection(db(c).command({ frobnicate: 1 }))).toMatchObject({
      code: 59,
      codeName: 'CommandNotFound',
      message: "no such command: 'frobnicate'",
    });
    expect(server.commandCounts().ismaster).toBeGreaterThanOrEqual(2); // monitor + pool handshakes
  });

  test('bad query operators are BadValue (2) and $text is IndexNotFound (27), not a crash', async () => {
    const c = await conn();
    const coll = db(c).collection('things');
    await coll.insertOne({ a: 1 });
    expect(await rejection(coll.find({ a: { $frob: 1 } }).toArray())).toMatchObject({ code: 2, codeName: 'BadValue' });
    expect(await rejection(coll.find({ $text: { $search: 'x' } }).toArray())).toMatchObject({ code: 27, codeName: 'IndexNotFound' });
    // Server-side JavaScript is refused: one endless $where would hang the whole test process.
    expect(await rejection(coll.find({ $where: 'true' }).toArray())).toMatchObject({ code: 2 });
    expect(await coll.countDocuments()).toBe(1);
  });

  test("operands mongod refuses are BadValue with mongod's message; $all and null comparisons mean what they mean in mongod", async () => {
    const c = await conn();
    const coll = db(c).collection('operands');
    await coll.insertMany([{ _id: 1, a: 5 }, { _id: 2, a: [5, 6] }, { _id: 3, a: null }, { _id: 4 }] as Document[]);
    const refused: Array<[Document, string]> = [
      [{ a: { $size: 'x' } }, '$size needs a number'],
      [{ a: { $size: -1 } }, '$size may not be negative'],
      [{ a: { $size: 1.5 } }, '$size must be a whole number'],
      [{ a: { $in: 5 } }, '$in needs an array'],
      [{ a: { $nin: 5 } }, '$nin needs an array'],
      [{ a: { $all: 5 } }, '$all needs an array'],
      [{ a: { $elemMatch: 5 } }, '$elemMatch needs an Object'],
      [{ a: { $regex: 'a\u0000b' } }, 'Regular expression cannot contain an embedded null byte'],
      [{ a: { $type: 'frob' } }, 'Unknown type name alias: frob'],
      [{ a: { $mod: [2] } }, 'malformed mod, not enough elements'],
      [{ a: { $mod: 2 } }, 'malformed mod, needs to be an array'],
      [{ a: { $not: 5 } }, '$not needs a regex or a document'],
      [{ a: { $not: {} } }, '$not cannot be empty'],
      [{ $and: [] }, '$and/$or/$nor must be a nonempty array'],
    ];
    for (const [filter, message] of refused) {
      expect({ filter, error: await rejection(coll.find(filter).toArray()) }).toEqual({ filter, error: expect.objectContaining({ code: 2, message }) });
    }
    const ids = async (filter: Document) => (await coll.find(filter).sort({ _id: 1 }).toArray()).map((doc) => doc._id);
    expect(await ids({ a: { $all: [5] } })).toEqual([1, 2]);
    expect(await ids({ a: { $all: [] } })).toEqual([]);
    expect(await ids({ a: { $all: [null] } })).toEqual([3, 4]);
    expect(await ids({ a: { $gte: null } })).toEqual([3, 4]);
    expect(await ids({ a: { $lt: null } })).toEqual([]);
    expect(await ids({ a: { $not: { $all: [5, 6] } } })).toEqual([1, 3, 4]);
  });

  test('state is shared by every connection of every client', async () => {
    const a = await conn();
    const b = await mongoose.createConnection(server.uri, { dbName: a.name }).asPromise();
    opened.push(b);
    await db(a)
      .collection('shared')
      .insertOne({ _id: 'from-a' } as Document);
    const counts = await Promise.all(Array.from({ length: 30 }, () => db(b).collection('shared').countDocuments()));
    expect(counts.every((n) => n === 1)).toBe(true);
    // Concurrent operations each took a pool connection of their own, plus each client's monitor.
    expect(server.connectionCount()).toBeGreaterThan(4);
  });
});

describe('collections and indexes', () => {
  test('a model with a TTL index: init creates it and listIndexes shows expireAfterSeconds', async () => {
    const c = await conn();
    const AuditLog = c.model('AuditLog', auditSchema(), 'auditLog');
    await AuditLog.init();
    expect(await AuditLog.collection.listIndexes().toArray()).toEqual([
      { v: 2, key: { _id: 1 }, name: '_id_' },
      { v: 2, key: { date: 1 }, name: 'date_1', expireAfterSeconds: 86400 },
    ]);
  });

  test('create on an existing collection is 48 exactly, and mongoose init survives it', async () => {
    const c = await conn();
    await c.createCollection('auditLog');
    expect(await rejection(c.createCollection('auditLog'))).toMatchObject({ code: 48, codeName: 'NamespaceExists' });
    const created = nextCommand(server, 'create', (e) => e.db === c.name);
    const AuditLog = c.model('AuditLog', auditSchema(), 'auditLog');
    await AuditLog.init();
    await created;
    expect(await AuditLog.collection.listIndexes().toArray()).toHaveLength(2);
  });

  test('listCollections, drop (missing is ok) and dropDatabase', async () => {
    const c = await conn();
    await c.createCollection('a');
    await c.createCollection('b');
    const names = (await db(c).listCollections({}, { nameOnly: true }).toArray()).map((x) => x.name).sort();
    expect(names).toEqual(['a', 'b']);
    const [a] = await db(c).listCollections({ name: 'a' }).toArray();
    expect(a).toMatchObject({ name: 'a', type: 'collection', idIndex: { name: '_id_' } });
    expect(await db(c).dropCollection('a')).toBe(true);
    await expect(db(c).dropCollection('a')).resolves.toBe(true);
    await c.dropDatabase();
    expect(await db(c).listCollections().toArray()).toEqual([]);
    expect(await rejection(db(c).collection('gone').listIndexes().toArray())).toMatchObject({ code: 26, codeName: 'NamespaceNotFound' });
  });

  test('createIndexes: identical is a no-op; clashes are 85 or 86 like mongod', async () => {
    const c = await conn();
    const coll = db(c).collection('things');
    expect(await coll.createIndex({ date: 1 }, { expireAfterSeconds: 100 })).toBe('date_1');
    const again = await db(c).command({ createIndexes: 'things', indexes: [{ key: { date: 1 }, name: 'date_1', expireAfterSeconds: 100 }] });
    expect(again).toMatchObject({ numIndexesBefore: 2, numIndexesAfter: 2, note: 'all indexes already exist' });
    expect(await rejection(coll.createIndex({ date: 1 }, { expireAfterSeconds: 200 }))).toMatchObject({ code: 85, codeName: 'IndexOptionsConflict' });
    expect(await rejection(coll.createIndex({ user: 1 }, { name: 'date_1' }))).toMatchObject({ code: 86, codeName: 'IndexKeySpecsConflict' });
    expect(await rejection(coll.createIndex({ date: 1 }, { name: 'other', expireAfterSeconds: 100 }))).toMatchObject({ code: 85 });
    expect((await coll.listIndexes().toArray()).map((i) => i.name)).toEqual(['_id_', 'date_1']);
  });

  test('collMod changes the TTL by name or key pattern; unknown index is 27', async () => {
    const c = await conn();
    const AuditLog = c.model('AuditLog', auditSchema(), 'auditLog');
    await AuditLog.init();
    const byName = await db(c).command({ collMod: 'auditLog', index: { name: 'date_1', expireAfterSeconds: 60 } });
    expect(byName).toMatchObject({ expireAfterSeconds_old: 86400, expireAfterSeconds_new: 60, ok: 1 });
    const byKey = await db(c).command({ collMod: 'auditLog', index: { keyPattern: { date: 1 }, expireAfterSeconds: 30 } });
    expect(byKey).toMatchObject({ expireAfterSeconds_old: 60, expireAfterSeconds_new: 30 });
    const [, ttl] = await AuditLog.collection.listIndexes().toArray();
    expect(ttl).toEqual({ v: 2, key: { date: 1 }, name: 'date_1', expireAfterSeconds: 30 });
    const missing = db(c).command({ collMod: 'auditLog', index: { name: 'nope_1', expireAfterSeconds: 5 } });
    expect(await rejection(missing)).toMatchObject({ code: 27, codeName: 'IndexNotFound' });
  });

  test('dropIndex by name or key; missing is 27; _id_ stays', async () => {
    const c = await conn();
    const coll = db(c).collection('things');
    await coll.createIndexes([{ key: { a: 1 } }, { key: { b: -1 } }, { key: { c: 1 } }]);
    await coll.dropIndex('a_1');
    await db(c).command({ dropIndexes: 'things', index: { b: -1 } });
    expect(await rejection(coll.dropIndex('a_1'))).toMatchObject({ code: 27, codeName: 'IndexNotFound' });
    expect(await rejection(coll.dropIndex('_id_'))).toMatchObject({ code: 72 });
    expect((await coll.listIndexes().toArray()).map((i) => i.name)).toEqual(['_id_', 'c_1']);
    await coll.dropIndexes();
    expect((await coll.listIndexes().toArray()).map((i) => i.name)).toEqual(['_id_']);
  });

  test('unique secondary indexes are enforced, on insert and when built', async () => {
    const c = await conn();
    const coll = db(c).collection('users');
    await coll.createIndex({ email: 1 }, { unique: true });
    await coll.insertOne({ email: 'a@x.io' });
    const dup = await rejection(coll.insertOne({ email: 'a@x.io' }));
    expect(dup).toMatchObject({ code: 11000, keyPattern: { email: 1 }, keyValue: { email: 'a@x.io' } });
    expect(dup.message).toBe(`E11000 duplicate key error collection: ${c.name}.users index: email_1 dup key: { email: "a@x.io" }`);
    const { insertedId } = await coll.insertOne({ email: 'b@x.io' });
    expect(await rejection(coll.updateOne({ _id: insertedId }, { $set: { email: 'a@x.io' } }))).toMatchObject({ code: 11000 });
    expect(await coll.updateOne({ _id: insertedId }, { $set: { email: 'c@x.io' } })).toMatchObject({ modifiedCount: 1 });
    await coll.insertOne({ email: 'b@x.io' }); // freed by the update
    // Like mongod, a missing field indexes as null: a second document without it collides.
    await coll.insertOne({ name: 'no email' });
    expect(await rejection(coll.insertOne({ name: 'no email either' }))).toMatchObject({ code: 11000, keyValue: { email: null } });
    const other = db(c).collection('others');
    await other.insertMany([{ name: 'n' }, { name: 'n' }]);
    expect(await rejection(other.createIndex({ name: 1 }, { unique: true }))).toMatchObject({ code: 11000 });
    expect((await other.listIndexes().toArray()).map((i) => i.name)).toEqual(['_id_']); // the failed build left nothing
  });
});

describe('reads', () => {
  let c: mongoose.Connection;
  type RowDoc = { n?: number | null; group?: string | null; tags: string[]; meta?: { source?: string | null; seq?: number | null } | null };
  let Row: mongoose.Model<RowDoc>;

  beforeAll(async () => {
    c = await connect(server);
    Row = c.model('Row', new Schema<RowDoc>({ n: Number, group: String, tags: [String], meta: { source: String, seq: Number } }));
    const rows = Array.from({ length: 1000 }, (_, n) => ({
      n,
      group: ['a', 'b', 'c'][n % 3] as string,
      tags: n % 2 ? ['odd'] : ['even', 'x'],
      meta: { source: 'seed', seq: n },
    }));
    await Row.insertMany(rows);
  });
  afterAll(async () => {
    await c.close();
  });

  test('find with filter, sort, skip, limit and projection', async () => {
    const docs = await Row.find({ group: 'a', n: { $gte: 500 } })
      .sort({ n: -1 })
      .skip(2)
      .limit(3)
      .select({ n: 1, group: 1 })
      .lean();
    expect(docs.map((d) => d.n)).toEqual([993, 990, 987]);
    expect(Object.keys(docs[0] ?? {})).toEqual(['_id', 'n', 'group']);
  });

  test('an exclusion projection does not damage the stored documents', async () => {
    // mingo deletes excluded nested fields from its input; the server must hand it copies.
    const slim = await Row.find({ n: 1 }).select('-tags -meta.seq').lean();
    expect(slim[0]).not.toHaveProperty('tags');
    expect(slim[0]?.meta).toEqual({ source: 'seed' });
    const full = await Row.findOne({ n: 1 }).lean();
    expect(full).toMatchObject({ tags: ['odd'], meta: { source: 'seed', seq: 1 } });
  });

  test('a large find comes back through getMore, in order', async () => {
    const before = server.commandCounts().getMore ?? 0;
    const all = await Row.find({}).sort({ n: 1 }).batchSize(300).lean();
    expect(all.map((d) => d.n)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect((server.commandCounts().getMore ?? 0) - before).toBe(3); // 300 + 300 + 300 + 100
    const unbatched = server.commandCounts().getMore ?? 0;
    expect(await Row.find({}).lean()).toHaveLength(1000); // first batch 101, then the rest at once
    expect((server.commandCounts().getMore ?? 0) - unbatched).toBe(1);
  });

  test('closing a cursor early sends killCursors, and the cursor is gone', async () => {
    const killed = nextCommand(server, 'killCursors');
    const cursor = Row.find({}).batchSize(10).cursor();
    expect(await cursor.next()).not.toBeNull();
    await cursor.close();
    const event = await killed;
    const ids = event.body.cursors as number[];
    expect(ids).toHaveLength(1);
    const getMore = db(c).command({ getMore: Long.fromNumber(ids[0] as number), collection: 'rows' });
    expect(await rejection(getMore)).toMatchObject({ code: 43, codeName: 'CursorNotFound' });
  });

  test('countDocuments, estimatedDocumentCount and distinct', async () => {
    expect(await Row.countDocuments({ group: 'b' })).toBe(333);
    expect(await Row.countDocuments({ group: 'a', n: { $lt: 30 } })).toBe(10);
    expect(await Row.estimatedDocumentCount()).toBe(1000);
    expect((await Row.distinct('group')).sort()).toEqual(['a', 'b', 'c']);
    expect((await Row.distinct('tags', { n: { $lt: 10 } })).sort()).toEqual(['even', 'odd', 'x']);
  });

  test('aggregate groups, and a mutating stage leaves stored documents alone', async () => {
    const sums = await Row.aggregate([{ $match: { n: { $lt: 9 } } }, { $group: { _id: '$group', total: { $sum: '$n' } } }, { $sort: { _id: 1 } }]);
    expect(sums).toEqual([
      { _id: 'a', total: 9 },
      { _id: 'b', total: 12 },
      { _id: 'c', total: 15 },
    ]);
    const changed = await Row.aggregate([{ $match: { n: 0 } }, { $set: { 'meta.source': 'gone' } }, { $project: { group: 0, 'meta.seq': 0 } }]);
    expect(changed[0]).toMatchObject({ meta: { source: 'gone' } });
    expect(changed[0]).not.toHaveProperty('group');
    expect(await Row.findOne({ n: 0 }).lean()).toMatchObject({ group: 'a', meta: { source: 'seed', seq: 0 } });
  });
});

describe('writes', () => {
  const Keyed = new Schema({ _id: String, v: Number });

  test.each([
    [true, 2],
    [false, 3],
  ])('insertMany ordered=%s with a duplicate _id: 11000 after %i inserts', async (ordered, inserted) => {
    const c = await conn();
    const M = c.model('Keyed', Keyed);
    const err = await rejection(M.insertMany([{ _id: 'a' }, { _id: 'b' }, { _id: 'a' }, { _id: 'c' }], { ordered }));
    expect(err.name).toBe('MongoBulkWriteError');
    expect(err.code).toBe(11000);
    expect(err.message).toBe(`E11000 duplicate key error collection: ${c.name}.keyeds index: _id_ dup key: { _id: "a" }`);
    expect((err.result as { insertedCount: number }).insertedCount).toBe(inserted);
    expect(err.writeErrors).toEqual([expect.objectContaining({ index: 2, code: 11000 })]);
    expect(await M.countDocuments()).toBe(inserted);
  });

  test('updateOne with upsert applies $setOnInsert only when inserting', async () => {
    const c = await conn();
    const Counter = c.model('Counter', new Schema({ key: String, hits: Number, createdBy: String }));
    const first = await Counter.updateOne({ key: 'k' }, { $inc: { hits: 1 }, $setOnInsert: { createdBy: 'first' } }, { upsert: true });
    expect(first).toMatchObject({ matchedCount: 0, upsertedCount: 1 });
    const second = await Counter.updateOne({ key: 'k' }, { $inc: { hits: 1 }, $setOnInsert: { createdBy: 'second' } }, { upsert: true });
    expect(second).toMatchObject({ matchedCount: 1, modifiedCount: 1, upsertedCount: 0 });
    expect(await Counter.findOne({ key: 'k' }).lean()).toMatchObject({ _id: first.upsertedId, key: 'k', hits: 2, createdBy: 'first' });
    expect(await Counter.updateOne({ key: 'k' }, { $set: { hits: 2 } })).toMatchObject({ matchedCount: 1, modifiedCount: 0 });
    expect(await Counter.updateMany({}, { $set: { hits: 0 } })).toMatchObject({ matchedCount: 1, modifiedCount: 1 });
  });

  test('findOneAndUpdate: upsert, before/after, sort, and findOneAndDelete', async () => {
    const c = await conn();
    const Counter = c.model('Counter', new Schema({ key: String, hits: Number }));
    expect(await Counter.findOneAndUpdate({ key: 'a' }, { $inc: { hits: 5 } }, { upsert: true, returnDocument: 'after' }).lean()).toMatchObject({
      key: 'a',
      hits: 5,
    });
    expect(await Counter.findOneAndUpdate({ key: 'a' }, { $inc: { hits: 1 } }, { returnDocument: 'before' }).lean()).toMatchObject({ hits: 5 });
    expect(await Counter.findOneAndUpdate({ key: 'a' }, { $inc: { hits: 1 } }, { returnDocument: 'after' }).lean()).toMatchObject({ hits: 7 });
    expect(await Counter.findOneAndUpdate({ key: 'none' }, { $inc: { hits: 1 } }).lean()).toBeNull();
    await Counter.create({ key: 'b', hits: 100 });
    expect(await Counter.findOneAndUpdate({}, { $set: { top: true } }, { sort: { hits: -1 }, strict: false }).lean()).toMatchObject({ key: 'b' });
    expect(await Counter.findOneAndDelete({ key: 'a' }).lean()).toMatchObject({ hits: 7 });
    expect(await Counter.countDocuments()).toBe(1);
  });

  test('replaceOne keeps _id; changing _id is ImmutableField (66)', async () => {
    const c = await conn();
    const Thing = c.model('Thing', new Schema({ key: String, hits: Number, note: String }));
    const doc = await Thing.create({ key: 'r', hits: 1, note: 'x' });
    expect(await Thing.replaceOne({ _id: doc._id }, { key: 'r2', hits: 9 })).toMatchObject({ matchedCount: 1, modifiedCount: 1 });
    const after = await Thing.findById(doc._id).lean();
    expect(after).toMatchObject({ key: 'r2', hits: 9 });
    expect(after).not.toHaveProperty('note');
    const changeId = Thing.collection.replaceOne({ _id: doc._id }, { _id: new mongoose.Types.ObjectId(), key: 'r3' });
    // Write errors carry code and errmsg only (no codeName), as mongod's do.
    expect(await rejection(changeId)).toMatchObject({ code: 66 });
  });

  test('collection(): stored documents reached behind the driver; changes made there are what the driver reads next', async () => {
    const c = await conn();
    const raw = db(c).collection('behind');
    await raw.insertMany([
      { _id: 'a', v: 1 },
      { _id: 'b', v: 2 },
      { _id: 'c', v: 3 },
    ] as unknown as Document[]);
    const stored = server.collection(c.name, 'behind')!;
    expect(stored.all().map((doc) => doc._id)).toEqual(['a', 'b', 'c']);
    stored.replace(stored.byId('a')!, { _id: 'a', v: 10 });
    stored.remove(stored.byId('b')!);
    stored.insert({ _id: 'd', v: 4 });
    expect(await raw.find({}).sort({ _id: 1 }).toArray()).toEqual([
      { _id: 'a', v: 10 },
      { _id: 'c', v: 3 },
      { _id: 'd', v: 4 },
    ]);
    expect(server.collection(c.name, 'nothing-here')).toBeUndefined();
  });

  test('deleteOne and deleteMany', async () => {
    const c = await conn();
    const M = c.model('Keyed', Keyed);
    await M.insertMany([
      { _id: 'a', v: 1 },
      { _id: 'b', v: 1 },
      { _id: 'c', v: 2 },
    ]);
    expect(await M.deleteOne({ v: 1 })).toMatchObject({ deletedCount: 1 });
    expect(await M.deleteMany({ v: { $gte: 1 } })).toMatchObject({ deletedCount: 2 });
    expect(await M.countDocuments()).toBe(0);
  });
});

describe('volume', () => {
  test('a 24 MB insert is reassembled, and finds come back in batches of at most 16 MiB', async () => {
    const c = await conn();
    const coll = db(c).collection('big');
    const blob = 'x'.repeat(1024 * 1024);
    await coll.insertMany(Array.from({ length: 24 }, (_, i) => ({ _id: i, blob })) as Document[]);
    const cursor = coll.find({}, { sort: { _id: 1 } });
    expect(await cursor.hasNext()).toBe(true);
    expect(cursor.bufferedCount()).toBe(15); // the 16th 1 MiB document would pass 16 MiB
    const docs = await cursor.toArray();
    expect(docs.map((d) => d._id)).toEqual(Array.from({ length: 24 }, (_, i) => i));
    expect(docs.every((d) => d.blob === blob)).toBe(true);
  });

  test('100k documents: bulk insert, duplicate detection, counts and lookups', async () => {
    const c = await conn();
    const coll = db(c).collection('many');
    await coll.insertMany(Array.from({ length: 100_000 }, (_, i) => ({ _id: i, g: i % 7 })) as Document[]);
    const err = await rejection(coll.insertMany([{ _id: 99_999 }, { _id: 100_000 }] as Document[], { ordered: false }));
    expect(err).toMatchObject({ code: 11000 });
    expect(await coll.estimatedDocumentCount()).toBe(100_001);
    expect(await coll.countDocuments({ g: 3 })).toBe(14_286);
    expect(await coll.findOne({ _id: 54_321 } as Document)).toEqual({ _id: 54_321, g: 54_321 % 7 });
  });
});

describe('TTL monitor', () => {
  test('runTtlMonitor deletes expired documents and keeps the rest', async () => {
    const c = await conn();
    const coll = db(c).collection('sessions');
    await coll.createIndex({ expiresAt: 1 }, { expireAfterSeconds: 60 });
    const now = Date.now();
    await coll.insertMany([
      { _id: 'old', expiresAt: new Date(now - 120_000) },
      { _id: 'fresh', expiresAt: new Date(now) },
      { _id: 'array-with-an-old-date', expiresAt: [new Date(now), new Date(now - 3_600_000)] },
      { _id: 'not-a-date', expiresAt: 'yesterday' },
      // A held audit entry: expireAt null is kept, as by mongod.
      { _id: 'null', expiresAt: null },
      { _id: 'missing' },
    ] as Document[]);
    expect(await server.runTtlMonitor()).toBe(2);
    const left = (await coll.find({}).toArray()).map((d) => String(d._id)).sort();
    expect(left).toEqual(['fresh', 'missing', 'not-a-date', 'null']);
  });

  test('the monitor also runs by itself on its interval', async () => {
    const fast = await startMongoTestServer({ ttlMonitorIntervalMs: 20 });
    const c = await connect(fast);
    try {
      const AuditLog = c.model('AuditLog', new Schema({ date: { type: Date, expires: 0 } }), 'auditLog');
      await AuditLog.init();
      await AuditLog.insertMany([{ date: new Date(Date.now() - 1000) }, { date: new Date(Date.now() + 3_600_000) }]);
      await until(async () => (await AuditLog.countDocuments()) === 1, 'the expired entry to be deleted');
      const [left] = await AuditLog.find({}).lean();
      expect(left?.date?.getTime()).toBeGreaterThan(Date.now());
    } finally {
      await c.close();
      await fast.close();
    }
  });
});

describe('faults', () => {
  let faulty: MongoTestServer;
  let c: mongoose.Connection;
  let Keyed: mongoose.Model<{ _id?: string | null; v?: number | null }>;

  beforeEach(async () => {
    faulty = await startMongoTestServer();
    // No buffering: an operation must meet the fault, not wait for mongoose to reconnect.
    c = await connect(faulty, { serverSelectionTimeoutMS: 1500, heartbeatFrequencyMS: 500, bufferCommands: false });
    Keyed = c.model('Keyed', new Schema({ _id: String, v: Number }));
    await Keyed.init();
  });
  afterEach(async () => {
    await c.close();
    await faulty.close();
  });

  test('refuseConnections: operations fail while on and succeed on the same port after off', async () => {
    await Keyed.create({ _id: 'a' });
    await faulty.faults.refuseConnections(true);
    expect(faulty.connectionCount()).toBe(0);
    const refused = new Promise((resolve, reject) => {
      const socket = net.connect(faulty.port, '127.0.0.1', () => resolve(socket.destroy()));
      socket.on('error', reject);
    });
    await expect(refused).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    const err = await rejection(Keyed.findById('a').lean());
    expect(err.name).toMatch(/MongoServerSelectionError|MongoNetworkError|MongoPoolClearedError/);
    await faulty.faults.refuseConnections(false);
    expect(await Keyed.findById('a').lean()).toEqual({ _id: 'a', __v: 0 });
  });

  test('dropConnection before: a network error, nothing written', async () => {
    faulty.faults.dropConnection({ command: 'insert', when: 'before', count: 2 });
    const err = await rejection(Keyed.insertMany([{ _id: 'a' }]));
    expect(isNetworkError(err)).toBe(true);
    expect(await rejection(Keyed.create({ _id: 'b' }))).toMatchObject({ name: 'MongoNetworkError' });
    expect(await Keyed.countDocuments()).toBe(0);
    await Keyed.create({ _id: 'c' }); // the count is used up
    expect(await Keyed.countDocuments()).toBe(1);
  });

  test('dropConnection after an insert: written, reply lost, a retry meets 11000', async () => {
    faulty.faults.dropConnection({ command: 'insert', when: 'after' });
    const docs = [
      { _id: 'a', v: 1 },
      { _id: 'b', v: 2 },
    ];
    const err = await rejection(Keyed.insertMany(docs));
    expect(isNetworkError(err)).toBe(true);
    expect(await Keyed.find({}).sort({ _id: 1 }).lean()).toEqual([
      { _id: 'a', v: 1, __v: 0 },
      { _id: 'b', v: 2, __v: 0 },
    ]);
    const retry = await rejection(Keyed.insertMany(docs, { ordered: false }));
    expect(retry).toMatchObject({ code: 11000 });
    expect(retry.writeErrors).toHaveLength(2);
  });

  test('failNext answers the next n matching commands with the error, then stops', async () => {
    faulty.faults.failNext(2, { command: 'find', code: 50, errmsg: 'operation exceeded time limit', errorLabels: ['Injected'] });
    await Keyed.create({ _id: 'a' }); // not a find: unaffected
    for (let i = 0; i < 2; i += 1) {
      const err = await rejection(Keyed.findById('a').lean());
      expect(err).toMatchObject({ name: 'MongoServerError', code: 50, codeName: 'MaxTimeMSExpired', message: 'operation exceeded time limit' });
      expect((err as unknown as mongoose.mongo.MongoServerError).hasErrorLabel('Injected')).toBe(true);
    }
    expect(await Keyed.findById('a').lean()).toMatchObject({ _id: 'a' });
  });

  test('failNext without a command skips heartbeats and hits the next real command', async () => {
    faulty.faults.failNext(1, { code: 2 });
    expect(await db(c).admin().ping()).toMatchObject({ ok: 1 });
    expect(await rejection(Keyed.countDocuments())).toMatchObject({ code: 2, codeName: 'BadValue' });
    expect(await Keyed.countDocuments()).toBe(0);
  });

  test('delay holds matching replies: other commands overtake; clear() releases them', async () => {
    await Keyed.create({ _id: 'x' });
    faulty.faults.delay(60_000, { command: 'find' });
    const order: string[] = [];
    const findArrived = nextCommand(faulty, 'find');
    const slow = Keyed.findById('x')
      .lean()
      .then((doc) => {
        order.push('find');
        return doc;
      });
    await findArrived;
    await Keyed.create({ _id: 'y' });
    order.push('insert');
    expect(order).toEqual(['insert']);
    faulty.faults.clear();
    expect(await slow).toMatchObject({ _id: 'x' });
    expect(order).toEqual(['insert', 'find']);
  });
});

describe('malformed input', () => {
  function opMsg(body: Document, opts: { flags?: number; opCode?: number; corrupt?: boolean } = {}): Buffer {
    const bson = Buffer.from(BSON.serialize(body));
    if (opts.corrupt) bson.writeInt32LE(bson.length + 1000, 0);
    const header = Buffer.alloc(21);
    header.writeInt32LE(21 + bson.length, 0);
    header.writeInt32LE(7, 4);
    header.writeInt32LE(opts.opCode ?? 2013, 12);
    header.writeUInt32LE(opts.flags ?? 0, 16);
    return Buffer.concat([header, bson]);
  }

  /** Sends bytes (optionally one byte per write) and collects what comes back until the server closes or replies `replies` times. */
  function exchange(bytes: Buffer, opts: { split?: boolean; replies?: number } = {}): Promise<{ closed: boolean; replies: Document[] }> {
    return new Promise((resolve) => {
      const replies: Document[] = [];
      let pending = Buffer.alloc(0);
      const socket = net.connect(server.port, '127.0.0.1', async () => {
        if (!opts.split) return void socket.write(bytes);
        for (const byte of bytes) {
          socket.write(Buffer.from([byte]));
          await new Promise((r) => setImmediate(r));
        }
      });
      socket.on('data', (chunk: Buffer) => {
        pending = Buffer.concat([pending, chunk]);
        while (pending.length >= 4 && pending.length >= pending.readInt32LE(0)) {
          const length = pending.readInt32LE(0);
          replies.push(BSON.deserialize(pending.subarray(21, length)));
          pending = pending.subarray(length);
        }
        if (replies.length === opts.replies) {
          socket.destroy();
          resolve({ closed: false, replies });
        }
      });
      socket.on('error', () => undefined);
      socket.on('close', () => resolve({ closed: true, replies }));
    });
  }

  const garbage: Array<[string, Buffer]> = [
    ['random bytes', Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')],
    [
      'a length beyond 48 MB',
      (() => {
        const b = Buffer.alloc(16);
        b.writeInt32LE(100_000_000, 0);
        return b;
      })(),
    ],
    ['an unknown opcode', opMsg({ ping: 1, $db: 'admin' }, { opCode: 9999 })],
    ['OP_MSG with a corrupt BSON length', opMsg({ ping: 1, $db: 'admin' }, { corrupt: true })],
    ['OP_MSG with an unknown required flag', opMsg({ ping: 1, $db: 'admin' }, { flags: 1 << 4 })],
  ];

  test.each(garbage)('%s closes that socket; the server keeps serving', async (_what, bytes) => {
    const { closed, replies } = await exchange(bytes);
    expect(closed).toBe(true);
    expect(replies).toEqual([]);
    const c = await conn();
    expect(await db(c).admin().ping()).toMatchObject({ ok: 1 });
  });

  test('a message written one byte at a time is reassembled; two in one write get two replies', async () => {
    const split = await exchange(opMsg({ ping: 1, $db: 'admin' }), { split: true, replies: 1 });
    expect(split.replies).toEqual([{ ok: 1 }]);
    const both = Buffer.concat([opMsg({ ping: 1, $db: 'admin' }), opMsg({ nope: 1, $db: 'admin' })]);
    const two = await exchange(both, { replies: 2 });
    expect(two.replies).toEqual([{ ok: 1 }, expect.objectContaining({ ok: 0, code: 59 })]);
  });

  test('moreToCome gets no reply, and the command still runs', async () => {
    const insert = opMsg({ insert: 'fire', documents: [{ _id: 1 }], $db: 'forget' }, { flags: 2 });
    const ping = opMsg({ ping: 1, $db: 'admin' });
    const { replies } = await exchange(Buffer.concat([insert, ping]), { replies: 1 });
    expect(replies).toEqual([{ ok: 1 }]);
    const c = await mongoose.createConnection(server.uri, { dbName: 'forget' }).asPromise();
    opened.push(c);
    expect(await db(c).collection('fire').countDocuments()).toBe(1);
  });
});
