/** The one store contract, run against every store this package ships. */
import fs from 'node:fs';
import path from 'node:path';
import mongoose from 'mongoose';
import { fileStore, memoryStore, mongoStore, type AuditStore } from 'express-audit-log';
import { storeContract } from './contract';
import { tempDir } from '../support/stores';
import { startMongo, stopMongo, type MongoTarget } from '../support/mongo';

storeContract('memory', () => ({
  open: async () => memoryStore(),
  expire: async () => undefined, // expired entries are filtered on read
  cleanup: async () => undefined,
}));

storeContract('file', () => {
  const dir = tempDir();
  let n = 0;
  return {
    open: async () => fileStore({ path: path.join(dir, `audit-${n++}.db`) }),
    expire: async () => undefined,
    cleanup: async () => fs.rmSync(dir, { recursive: true, force: true }),
  };
});

storeContract(process.env.MONGODB_URI ? 'mongo (MONGODB_URI)' : 'mongo (wire-protocol test server)', () => {
  let target: MongoTarget | null = null;
  const connections: mongoose.Connection[] = [];
  let n = 0;
  return {
    open: async (): Promise<AuditStore> => {
      target ??= await startMongo();
      const connection = await mongoose.createConnection(target.uri, { dbName: target.dbName, serverSelectionTimeoutMS: 5000 }).asPromise();
      connections.push(connection);
      return mongoStore({ connection, collection: `auditLog_${n++}` });
    },
    // The in-process server runs a TTL pass on demand; a real server's monitor runs every 60 s.
    expire: async () => void (await target?.server?.runTtlMonitor()),
    cleanup: async () => {
      for (const connection of connections) await connection.close();
      if (target) await stopMongo(target);
    },
  };
});

test('memoryStore keeps the newest maxEntries and evicts the oldest', async () => {
  const store = memoryStore({ maxEntries: 100 });
  await store.init({ ttlSeconds: null });
  const { ObjectId } = await import('bson');
  const made = Array.from({ length: 250 }, (_, i) => ({ _id: new ObjectId().toHexString(), date: new Date(1_700_000_000_000 + i), requestId: `r${i}` }));
  for (let i = 0; i < made.length; i += 50) await store.insertMany(made.slice(i, i + 50) as never);
  const kept = await store.count({});
  expect(kept).toBeLessThanOrEqual(100);
  expect(kept).toBeGreaterThanOrEqual(90);
  expect(await store.findById(made[249]!._id)).not.toBeNull();
  expect(await store.findById(made[0]!._id)).toBeNull();
  expect(() => memoryStore({ maxEntries: 0 })).toThrow(/maxEntries/);
});

test('memoryStore is bounded by default (10,000 entries: it is for tests and small runs)', async () => {
  const store = memoryStore();
  await store.init({ ttlSeconds: null });
  const { ObjectId } = await import('bson');
  for (let batch = 0; batch < 12; batch++) {
    await store.insertMany(
      Array.from({ length: 1000 }, (_, i) => ({ _id: new ObjectId().toHexString(), date: new Date(1_700_000_000_000 + batch * 1000 + i) })) as never,
    );
  }
  const kept = await store.count({});
  expect(kept).toBeLessThanOrEqual(10_000);
  expect(kept).toBeGreaterThanOrEqual(9_000);
});
