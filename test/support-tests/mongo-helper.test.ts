/** test/support/mongo.ts: a server per call, or the MONGODB_URI server with a database to clean up. */
import { startMongoTestServer } from '../support/mongo-server';
import { startMongo, stopMongo } from '../support/mongo';
import mongoose from 'mongoose';

const saved = process.env.MONGODB_URI;
afterEach(() => {
  if (saved === undefined) delete process.env.MONGODB_URI;
  else process.env.MONGODB_URI = saved;
});

test('without MONGODB_URI: an in-process server and a fresh database name each call', async () => {
  delete process.env.MONGODB_URI;
  const [a, b] = await Promise.all([startMongo(), startMongo()]);
  try {
    expect(a.server).not.toBeNull();
    expect(a.uri).toBe(a.server?.uri);
    expect(a.dbName).toMatch(/^eal_test_[0-9a-f]+$/);
    expect(a.dbName).not.toBe(b.dbName);
  } finally {
    await stopMongo(a);
    await stopMongo(b);
  }
  expect(a.server?.connectionCount()).toBe(0);
});

test('with MONGODB_URI: that server is used, and stopMongo drops only the test database', async () => {
  // Stands in for a real mongod: the helper cannot tell the difference.
  const external = await startMongoTestServer();
  const admin = await mongoose.createConnection(external.uri, { dbName: 'keep' }).asPromise();
  try {
    process.env.MONGODB_URI = external.uri;
    const target = await startMongo();
    expect(target).toMatchObject({ uri: external.uri, server: null });
    const c = await mongoose.createConnection(target.uri, { dbName: target.dbName }).asPromise();
    await c.collection('x').insertOne({ a: 1 });
    await c.close();
    await admin.collection('y').insertOne({ b: 1 });
    await stopMongo(target);
    const { databases } = await admin.db!.admin().listDatabases({ nameOnly: true });
    expect(databases.map((d) => d.name)).toEqual(['keep']);
  } finally {
    await admin.close();
    await external.close();
  }
});
