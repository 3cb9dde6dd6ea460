/**
 * MongoDB deployments: the write concern of audit writes and the read preference of the query
 * routes, asserted on what the driver sent to the test server. The server presents itself as a
 * replica set primary or a mongos, as a real deployment would: against a standalone the driver
 * sends no read preference at all.
 */
import mongoose from 'mongoose';
import request from 'supertest';
import express from 'express';
import { auditLog, mongoStore, AuditLogConfigError, type MongoStoreOptions, type MongoReadPreferenceObject } from 'express-audit-log';
import { startMongoTestServer, type CommandEvent, type MongoTestServer } from '../support/mongo-server';

interface Sent {
  name: string;
  collection: unknown;
  writeConcern: unknown;
  readPreference: unknown;
  maxTimeMS: unknown;
}

const servers: MongoTestServer[] = [];
const connections: mongoose.Connection[] = [];

afterAll(async () => {
  for (const connection of connections) await connection.close();
  for (const server of servers) await server.close();
});

async function deployment(topology: 'standalone' | 'replicaSet' | 'sharded') {
  const server = await startMongoTestServer({ topology });
  servers.push(server);
  const connection = await mongoose.createConnection(server.uri, { dbName: 'deploy', serverSelectionTimeoutMS: 5000 }).asPromise();
  connections.push(connection);
  const sent: Sent[] = [];
  server.on('command', (e: CommandEvent) => {
    const body = e.body as Record<string, unknown>;
    sent.push({
      name: e.name,
      collection: body[e.name],
      writeConcern: body.writeConcern,
      readPreference: body.$readPreference,
      maxTimeMS: body.maxTimeMS === undefined ? undefined : Number(body.maxTimeMS),
    });
  });
  return { server, connection, sent };
}

/** An app that records one POST and serves the query routes without auth. */
function appWith(connection: mongoose.Connection, options: Omit<MongoStoreOptions, 'connection'>, extra: { integrity?: boolean } = {}) {
  const audit = auditLog({ store: mongoStore({ connection, ...options }), publicRoutes: true, ...extra });
  const app = express();
  app.use(express.json());
  app.use(audit);
  app.post('/widgets', (_req, res) => {
    res.status(201).json({ _id: '65f0c0ffee65f0c0ffee65f1' });
  });
  return { app, audit };
}

describe('write concern', () => {
  test("entries are written with { w: 'majority' } by default", async () => {
    const { connection, sent } = await deployment('replicaSet');
    const { app, audit } = appWith(connection, { collection: 'wc_default' });
    try {
      await request(app).post('/widgets').send({ name: 'a' }).expect(201);
      await audit.flush();
      const inserts = sent.filter((s) => s.name === 'insert' && s.collection === 'wc_default');
      expect(inserts.length).toBeGreaterThan(0);
      for (const insert of inserts) expect(insert.writeConcern).toEqual({ w: 'majority' });
    } finally {
      await audit.close();
    }
  });

  test('a configured write concern (w, j, wtimeoutMS) reaches entries and integrity checkpoints', async () => {
    const { connection, sent } = await deployment('replicaSet');
    const { app, audit } = appWith(connection, { collection: 'wc_set', writeConcern: { w: 2, j: true, wtimeoutMS: 5000 } }, { integrity: true });
    try {
      await request(app).post('/widgets').send({ name: 'a' }).expect(201);
      await audit.flush();
      await audit.close();
      const entries = sent.filter((s) => s.name === 'insert' && s.collection === 'wc_set');
      const checkpoints = sent.filter((s) => s.name === 'insert' && s.collection === 'wc_set.checkpoints');
      expect(entries.length).toBeGreaterThan(0);
      expect(checkpoints.length).toBeGreaterThan(0);
      for (const insert of [...entries, ...checkpoints]) expect(insert.writeConcern).toEqual({ w: 2, j: true, wtimeout: 5000 });
    } finally {
      await audit.close();
    }
  });

  test("the app's own writes on the same connection keep the connection's default", async () => {
    const { connection, sent } = await deployment('replicaSet');
    const { app, audit } = appWith(connection, { collection: 'wc_app', writeConcern: { w: 'majority', j: true } });
    const Widget = connection.model('Widget', new mongoose.Schema({ name: String }), 'widgets');
    try {
      await request(app).post('/widgets').send({ name: 'a' }).expect(201);
      await audit.flush();
      await Widget.create({ name: 'b' });
      await Widget.find({}).exec();
      const own = sent.filter((s) => s.collection === 'widgets' && (s.name === 'insert' || s.name === 'find'));
      expect(own.map((s) => s.name)).toEqual(['insert', 'find']);
      for (const command of own) {
        expect(command.writeConcern).toBeUndefined();
        expect(command.readPreference).toBeUndefined();
      }
    } finally {
      await audit.close();
    }
  });
});

describe('read preference of the query routes', () => {
  for (const topology of ['replicaSet', 'sharded'] as const) {
    test(`${topology}: list, count and by-id reads carry $readPreference secondaryPreferred and maxTimeMS`, async () => {
      const { connection, sent } = await deployment(topology);
      const { app, audit } = appWith(connection, { collection: 'rp_routes', readPreference: 'secondaryPreferred' });
      try {
        await request(app).post('/widgets').send({ name: 'a' }).expect(201);
        await audit.flush();
        sent.length = 0;
        const list = await request(app).get('/auditLog').expect(200);
        expect(list.body.items.total).toBe(1);
        await request(app).get('/auditLog?$count=true').expect(200);
        await request(app).get(`/auditLog/${list.body.docs[0]._id}`).expect(200);
        const reads = sent.filter((s) => (s.name === 'find' || s.name === 'aggregate') && s.collection === 'rp_routes');
        expect(reads.map((s) => s.name).sort()).toEqual(['aggregate', 'aggregate', 'find', 'find']);
        for (const read of reads) {
          expect(read.readPreference).toEqual({ mode: 'secondaryPreferred' });
          expect(read.maxTimeMS).toBe(10_000);
        }
      } finally {
        await audit.close();
      }
    });
  }

  test("checkpoint pages (verification, export) follow it; the writer's read of the newest checkpoint stays on the primary", async () => {
    const { connection, sent } = await deployment('replicaSet');
    const { app, audit } = appWith(connection, { collection: 'rp_checkpoints', readPreference: 'secondaryPreferred' }, { integrity: true });
    try {
      await request(app).post('/widgets').send({ name: 'a' }).expect(201);
      await audit.flush();
      await audit.store?.findCheckpoints?.({ after: null, limit: 10 });
      const reads = sent.filter((s) => s.name === 'find' && s.collection === 'rp_checkpoints.checkpoints');
      expect(reads.map((read) => read.readPreference)).toEqual([undefined, { mode: 'secondaryPreferred' }]);
    } finally {
      await audit.close();
    }
  });

  test('tags and maxStalenessSeconds are sent as given', async () => {
    const { connection, sent } = await deployment('replicaSet');
    const readPreference: MongoReadPreferenceObject = { mode: 'nearest', tags: [{ dc: 'east' }, {}], maxStalenessSeconds: 120 };
    const { app, audit } = appWith(connection, { collection: 'rp_tags', readPreference });
    try {
      await request(app).get('/auditLog').expect(200);
      const reads = sent.filter((s) => s.name === 'find' && s.collection === 'rp_tags');
      expect(reads).toHaveLength(1);
      expect(reads[0]!.readPreference).toEqual(readPreference);
    } finally {
      await audit.close();
    }
  });

  test("by default reads go to the primary, and the app's own reads never get the audit log's preference", async () => {
    const { connection, sent } = await deployment('replicaSet');
    const primary = appWith(connection, { collection: 'rp_primary' });
    // Not 'secondary': this one-member set has none, and server selection would time out, as on a real one.
    const secondary = appWith(connection, { collection: 'rp_secondary', readPreference: 'primaryPreferred' });
    const Widget = connection.model('Gadget', new mongoose.Schema({ name: String }), 'gadgets');
    try {
      await request(primary.app).get('/auditLog').expect(200);
      await request(secondary.app).get('/auditLog').expect(200);
      await Widget.find({}).exec();
      const readOf = (collection: string) => sent.find((s) => s.name === 'find' && s.collection === collection)?.readPreference;
      expect(readOf('rp_primary')).toBeUndefined(); // the driver sends nothing for primary
      expect(readOf('rp_secondary')).toEqual({ mode: 'primaryPreferred' });
      expect(readOf('gadgets')).toBeUndefined();
    } finally {
      await primary.audit.close();
      await secondary.audit.close();
    }
  });
});

describe('maxTimeMS on checkpoint reads', () => {
  test("the writer's read of the newest checkpoint at start, and checkpoint pages (what verification reads), send maxTimeMS", async () => {
    const { connection, sent } = await deployment('standalone');
    const { app, audit } = appWith(connection, { collection: 'mt_checkpoints', maxTimeMS: 4321 }, { integrity: true });
    try {
      await request(app).post('/widgets').send({ name: 'a' }).expect(201);
      await audit.flush();
      await audit.store?.findCheckpoints?.({ after: null, limit: 10 });
      const reads = sent.filter((s) => s.name === 'find' && s.collection === 'mt_checkpoints.checkpoints');
      expect(reads.length).toBe(2);
      for (const read of reads) expect(read.maxTimeMS).toBe(4321);
    } finally {
      await audit.close();
    }
  });
});

describe('bad deployment options fail at start', () => {
  test.each([
    [{ writeConcern: { w: 0 } }, /w: 0 would count a lost entry as written/],
    [{ writeConcern: { w: -1 } }, /writeConcern.w must be 'majority', a number of nodes/],
    [{ writeConcern: { j: 'yes' } }, /writeConcern.j must be true or false/],
    [{ writeConcern: { journal: true } }, /writeConcern has no option 'journal'/],
    [{ writeConcern: 'majority' }, /writeConcern must be an object like \{ w: 'majority', j: true \}/],
    [{ readPreference: 'secondary_preferred' }, /readPreference must be one of .* Did you mean 'secondaryPreferred'\?/],
    [{ readPreference: { mode: 'primary', tags: [{ dc: 'east' }] } }, /'primary' takes no tags/],
    [{ readPreference: { mode: 'nearest', maxStalenessSeconds: 10 } }, /90 or more/],
    [{ readPreference: { mode: 'nearest', tags: 'east' } }, /tags must be an array of tag sets/],
  ])('%j', (options, message) => {
    const attempt = () => mongoStore(options as MongoStoreOptions);
    expect(attempt).toThrow(AuditLogConfigError);
    expect(attempt).toThrow(message);
  });
});
