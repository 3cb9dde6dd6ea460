/**
 * Where MongoDB tests get a server: the in-process wire-protocol server by default, or the real
 * server in MONGODB_URI when it is set. Each call gets its own database, so suites never share data.
 */
import { randomBytes } from 'node:crypto';
import mongoose from 'mongoose';
import { startMongoTestServer, type MongoTestServer } from './mongo-server';

export interface MongoTarget {
  uri: string;
  /** null when MONGODB_URI points at a real server. */
  server: MongoTestServer | null;
  /** Unique per call, e.g. 'eal_test_3f9a1c2b'. */
  dbName: string;
}

export async function startMongo(opts: { ttlMonitorIntervalMs?: number } = {}): Promise<MongoTarget> {
  const dbName = `eal_test_${randomBytes(4).toString('hex')}`;
  const external = process.env.MONGODB_URI;
  if (external) return { uri: external, server: null, dbName };
  const server = await startMongoTestServer({ ttlMonitorIntervalMs: opts.ttlMonitorIntervalMs });
  return { uri: server.uri, server, dbName };
}

export async function stopMongo(t: MongoTarget): Promise<void> {
  if (t.server) {
    await t.server.close();
    return;
  }
  // A real server outlives the test run: remove what this test created.
  const connection = await mongoose.createConnection(t.uri, { dbName: t.dbName, serverSelectionTimeoutMS: 5000 }).asPromise();
  try {
    await connection.dropDatabase();
  } finally {
    await connection.close();
  }
}
