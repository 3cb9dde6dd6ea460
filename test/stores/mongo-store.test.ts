/** What the MongoDB store promises beyond the contract: TTL kept in sync, indexes, connection handling, inference. */
import mongoose from 'mongoose';
import request from 'supertest';
import express from 'express';
import { auditLog, mongoStore, AuditLogConfigError, type AuditLogStoreError } from 'express-audit-log';
import { startMongo, stopMongo, type MongoTarget } from '../support/mongo';
import { settle, until } from '../support/wait';

let target: MongoTarget;
const opened: mongoose.Connection[] = [];

async function connect(): Promise<mongoose.Connection> {
  const connection = await mongoose.createConnection(target.uri, { dbName: target.dbName, serverSelectionTimeoutMS: 5000 }).asPromise();
  opened.push(connection);
  return connection;
}

async function dateIndex(connection: mongoose.Connection, collection: string) {
  const indexes = await connection.db!.collection(collection).listIndexes().toArray();
  return indexes.find((index) => JSON.stringify(index.key) === '{"date":1}');
}

beforeAll(async () => {
  target = await startMongo();
});
afterAll(async () => {
  for (const connection of opened) await connection.close();
  await stopMongo(target);
});

async function expiryIndex(connection: mongoose.Connection, collection: string) {
  const indexes = await connection.db!.collection(collection).listIndexes().toArray();
  return indexes.find((index) => JSON.stringify(index.key) === '{"expireAt":1}');
}

describe('TTL index: per-entry expiry on expireAt', () => {
  test('a TTL index on expireAt with expireAfterSeconds 0 and a plain date index, whatever the ttl; entries get date + ttl', async () => {
    const connection = await connect();
    const warnings: string[] = [];
    const warn = (code: string) => void warnings.push(code);
    for (const ttlSeconds of [86_400, null, 60]) {
      const store = mongoStore({ connection, collection: 'ttl_sync' });
      await store.init({ ttlSeconds, warn });
      expect(await expiryIndex(connection, 'ttl_sync')).toMatchObject({ name: 'expireAt_1', expireAfterSeconds: 0 });
      const plain = await dateIndex(connection, 'ttl_sync');
      expect(plain).toMatchObject({ name: 'date_1' });
      expect(plain!.expireAfterSeconds).toBeUndefined();
    }
    const store = mongoStore({ connection, collection: 'ttl_sync' });
    await store.init({ ttlSeconds: 3600 });
    const date = new Date('2026-01-01T00:00:00Z');
    await store.insertMany([{ _id: new mongoose.Types.ObjectId().toHexString(), date, requestId: 'r1' } as never]);
    const [stored] = await connection.db!.collection('ttl_sync').find({ requestId: 'r1' }).toArray();
    expect(stored!.expireAt).toEqual(new Date(date.getTime() + 3_600_000));
    expect(warnings).toEqual([]);
  });

  test('a 0.1 collection (TTL on date, entries without expireAt) is migrated at start: expireAt backfilled, then date made plain; the TTL monitor then removes what is due', async () => {
    const connection = await connect();
    const raw = connection.db!.collection('from_01');
    await raw.createIndex({ date: 1 }, { name: 'date_1', expireAfterSeconds: 86_400 });
    const now = Date.now();
    await raw.insertMany([
      { _id: new mongoose.Types.ObjectId(), date: new Date(now - 2 * 86_400_000), requestId: 'old' },
      { _id: new mongoose.Types.ObjectId(), date: new Date(now), requestId: 'fresh' },
    ]);
    await mongoStore({ connection, collection: 'from_01' }).init({ ttlSeconds: 86_400 });
    expect((await dateIndex(connection, 'from_01'))!.expireAfterSeconds).toBeUndefined();
    expect(await expiryIndex(connection, 'from_01')).toMatchObject({ expireAfterSeconds: 0 });
    const fresh = await raw.findOne({ requestId: 'fresh' });
    expect(fresh!.expireAt).toEqual(new Date(now + 86_400_000));
    await target.server?.runTtlMonitor();
    if (target.server) expect(await raw.countDocuments({ requestId: 'old' })).toBe(0);
    expect(await raw.countDocuments({ requestId: 'fresh' })).toBe(1);
  });

  test('through auditLog(): the ttl option reaches each entry', async () => {
    const connection = await connect();
    const audit = auditLog({ store: mongoStore({ connection, collection: 'ttl_option' }), ttl: '12h' });
    const app = express()
      .use(audit)
      .post('/things', (_req, res) => void res.status(201).json({}));
    await request(app).post('/things').expect(201);
    await audit.flush();
    const [entry] = await connection.db!.collection('ttl_option').find({}).toArray();
    expect(entry!.expireAt.getTime() - entry!.date.getTime()).toBe(43_200_000);
    await audit.close();
  });

  test('a TTL index on date created elsewhere with other options is reported, not changed', async () => {
    const connection = await connect();
    await connection.db!.collection('ttl_conflict').createIndex({ date: 1 }, { name: 'their_date', sparse: true, expireAfterSeconds: 60 });
    const warnings: Array<[string, string]> = [];
    await mongoStore({ connection, collection: 'ttl_conflict' }).init({ ttlSeconds: 3600, warn: (code, message) => void warnings.push([code, message]) });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]![0]).toBe('EAUDIT_TTL_INDEX_CONFLICT');
    expect(warnings[0]![1]).toMatch(/their_date.*sparse/);
    expect((await dateIndex(connection, 'ttl_conflict'))!.expireAfterSeconds).toBe(60);
  });

  test('query indexes for the common filters exist', async () => {
    const connection = await connect();
    await mongoStore({ connection, collection: 'with_indexes' }).init({ ttlSeconds: null });
    const names = (await connection.db!.collection('with_indexes').listIndexes().toArray()).map((index) => index.name).sort();
    expect(names).toEqual([
      '_id_',
      'action_1_date_-1',
      'collectionName_1_date_-1',
      'date_1',
      'documents_1',
      'expireAt_1',
      'holds_1',
      'requestId_1',
      'statusCode_1_date_-1',
      'user_1_date_-1',
    ]);
  });
});

describe('connections', () => {
  test("works when the app connects after auditLog(); never closes the caller's connection", async () => {
    const connection = mongoose.createConnection(); // not open yet
    opened.push(connection);
    const audit = auditLog({ store: mongoStore({ connection, collection: 'later' }), retryMinDelayMs: 5, retryMaxDelayMs: 20 });
    const app = express()
      .use(express.json())
      .use(audit)
      .post('/things', (_req, res) => {
        res.status(201).json({ _id: 't1' });
      });
    await request(app).post('/things').send({ a: 1 }).expect(201);
    await until(() => audit.stats().recorded === 1, 'the entry recorded');
    expect(audit.stats().written).toBe(0);
    await connection.openUri(target.uri, { dbName: target.dbName });
    await settle(audit, 1);
    expect(await connection.db!.collection('later').countDocuments()).toBe(1);
    await audit.close();
    expect(connection.readyState).toBe(1);
    expect(await connection.db!.collection('later').countDocuments()).toBe(1);
  });

  test('no connection in time: a clear error, entries kept queued, written once it connects', async () => {
    const connection = mongoose.createConnection();
    opened.push(connection);
    const audit = auditLog({ store: mongoStore({ connection, collection: 'no_conn', connectTimeoutMs: 20 }), retryMinDelayMs: 5, retryMaxDelayMs: 20 });
    const errors: AuditLogStoreError[] = [];
    audit.on('error', (error) => errors.push(error));
    const app = express()
      .use(express.json())
      .use(audit)
      .post('/things', (_req, res) => {
        res.status(201).json({});
      });
    await request(app).post('/things').send({}).expect(201);
    await until(() => errors.length > 0, 'the no-connection error');
    expect(errors[0]!.code).toBe('EAUDIT_STORE_INIT');
    expect(errors[0]!.message).toMatch(/no MongoDB connection.*mongoose\.connect\(\) or pass store/);
    expect(audit.stats()).toMatchObject({ queued: 1, dropped: 0 });
    await connection.openUri(target.uri, { dbName: target.dbName });
    await until(() => audit.stats().written === 1, 'the entry written after connecting');
    await audit.close();
  });

  test('the default store is the default mongoose connection', async () => {
    const audit = auditLog({ retryMinDelayMs: 5, retryMaxDelayMs: 20 });
    const app = express()
      .use(express.json())
      .use(audit)
      .post('/things', (_req, res) => {
        res.status(201).json({ _id: 'x' });
      });
    await request(app).post('/things').send({ a: 1 }).expect(201);
    await mongoose.connect(target.uri, { dbName: target.dbName, serverSelectionTimeoutMS: 5000 });
    try {
      await settle(audit, 1);
      expect(await mongoose.connection.db!.collection('auditLog').countDocuments({ endpoint: '/things' })).toBe(1);
      await audit.close();
      expect(mongoose.connection.readyState).toBe(1);
    } finally {
      await mongoose.disconnect();
    }
  });

  test('bad store options are refused with a clear error', () => {
    expect(() => mongoStore({ collection: 'bad name!' })).toThrow(AuditLogConfigError);
    expect(() => mongoStore({ conection: {} } as never)).toThrow(/unknown option 'conection'/);
    expect(() => mongoStore({ connection: {} as never })).toThrow(/mongoose Connection/);
  });
});

describe('association types inferred from registered mongoose models', () => {
  test('MANY_MANY, ONE_MANY and _MANY', async () => {
    const connection = await connect();
    const { Schema } = mongoose;
    connection.model(
      'User',
      new Schema({ name: String, groups: [{ type: Schema.Types.ObjectId, ref: 'Group' }], hashtags: [{ type: Schema.Types.ObjectId, ref: 'Hashtag' }] }),
    );
    connection.model('Group', new Schema({ name: String, users: [{ type: Schema.Types.ObjectId, ref: 'User' }] }));
    const role = new Schema({ name: String });
    role.virtual('people', { ref: 'Person', localField: '_id', foreignField: 'role' });
    connection.model('Role', role);
    connection.model('Person', new Schema({ name: String, role: { type: Schema.Types.ObjectId, ref: 'Role' } }));
    connection.model('Hashtag', new Schema({ text: String }));

    const store = mongoStore({ connection, collection: 'assoc' });
    expect(store.associationType!('users', 'groups')).toBe('MANY_MANY');
    expect(store.associationType!('role', 'people')).toBe('ONE_MANY');
    expect(store.associationType!('user', 'hashtags')).toBe('_MANY');
    expect(store.associationType!('user', 'unknown')).toBeNull();
    expect(store.associationType!('nothing', 'groups')).toBeNull();

    const audit = auditLog({ store });
    const app = express()
      .use(express.json())
      .use(audit)
      .put('/users/:id/groups/:gid', (_req, res) => {
        res.status(204).end();
      });
    await request(app).put('/users/u1/groups/g1').expect(204);
    await settle(audit, 1);
    const [doc] = await connection.db!.collection('assoc').find().toArray();
    expect(doc).toMatchObject({ action: 'Add', collectionName: 'users', childCollectionName: 'groups', associationType: 'MANY_MANY', documents: ['u1', 'g1'] });
    await audit.close();
  });
});

describe('maxTimeMS on every read', () => {
  test('find, count and findById send maxTimeMS (10000 by default, or the option) with each find and aggregate', async () => {
    if (!target.server) return; // a real server: nothing records what the driver sent
    const connection = await connect();
    const sent: Array<{ name: string; maxTimeMS: unknown }> = [];
    const listen = (e: { name: string; body: Record<string, unknown> }) => {
      if (e.name === 'find' || e.name === 'aggregate') sent.push({ name: e.name, maxTimeMS: e.body.maxTimeMS });
    };
    target.server.on('command', listen);
    try {
      for (const [store, expected] of [
        [mongoStore({ connection, collection: 'max_time' }), 10_000],
        [mongoStore({ connection, collection: 'max_time', maxTimeMS: 2500 }), 2500],
      ] as const) {
        await store.init({ ttlSeconds: null });
        sent.length = 0;
        await store.find({ filter: { user: 'u' }, sort: [['date', -1]], skip: 0, limit: 5, select: null });
        await store.count({ user: 'u' });
        await store.findById('65f0c0ffee65f0c0ffee65f0');
        expect(sent.map((s) => s.name).sort()).toEqual(['aggregate', 'aggregate', 'find', 'find']);
        expect(sent.map((s) => Number(s.maxTimeMS))).toEqual([expected, expected, expected, expected]);
      }
    } finally {
      target.server.off('command', listen);
    }
  });

  test('a read that runs past maxTimeMS is stopped by the server (code 50): the list route answers 503 and reports the time limit', async () => {
    if (!target.server) return; // the delay fault exists only on the test server
    const connection = await connect();
    const audit = auditLog({ store: mongoStore({ connection, collection: 'max_time_http', maxTimeMS: 50 }), publicRoutes: true });
    const reported: Array<Error & { code?: string }> = [];
    audit.on('error', (error: Error & { code?: string }) => reported.push(error));
    const app = express();
    app.use(audit);
    await audit.flush();
    target.server.faults.delay(5_000, { command: 'find' });
    try {
      const res = await request(app).get('/auditLog');
      expect(res.status).toBe(503);
      expect(reported.map((error) => error.message).join('\n')).toMatch(/maxTimeMS \(50 ms, MaxTimeMSExpired\): narrow it/);
    } finally {
      target.server.faults.clear();
      await audit.close();
    }
  });

  test('a bad maxTimeMS is refused at startup', () => {
    expect(() => mongoStore({ maxTimeMS: 0 })).toThrow(AuditLogConfigError);
    expect(() => mongoStore({ maxTimeMS: 1.5 })).toThrow(/maxTimeMS must be a whole number of ms/);
  });
});

describe('tenant index', () => {
  test('with getTenant, an index on tenant and date serves tenant-restricted reads; without it, none is created', async () => {
    const connection = await connect();
    const names = async (collection: string) => (await connection.db!.collection(collection).listIndexes().toArray()).map((index) => index.name);
    const withTenants = auditLog({ store: mongoStore({ connection, collection: 'tenant_index' }), getTenant: () => 'acme' });
    await withTenants.flush();
    await withTenants.close();
    expect(await names('tenant_index')).toContain('tenant_1_date_-1');
    const without = auditLog({ store: mongoStore({ connection, collection: 'no_tenant_index' }) });
    await without.flush();
    await without.close();
    expect(await names('no_tenant_index')).not.toContain('tenant_1_date_-1');
  });
});
