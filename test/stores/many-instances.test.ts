/**
 * Several processes record into one store (one MongoDB collection, one SQLite file in WAL mode):
 * nothing lost, nothing written twice, and the list route answers the same order from every
 * instance, page by page. Real child processes (test/support/instances) over 127.0.0.1; the
 * MongoDB kind uses the in-project wire-protocol server, running in this process.
 */
import path from 'node:path';
import { killInstances, getJson, post, startInstance, type Instance } from '../support/instances/launcher';
import type { ChildSettings } from '../support/instances/child';
import { startMongo, stopMongo, type MongoTarget } from '../support/mongo';
import { tempDir } from '../support/stores';
import { until } from '../support/wait';

afterEach(killInstances);

// The package has no types of its own (the store declares what it uses in src/stores/sqlite-driver.ts).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const Database = require('better-sqlite3') as new (file: string) => { exec(sql: string): void; close(): void };

const INSTANCES = 3;
const PER_INSTANCE = 40;
const LANES = 4;

interface Listed {
  _id: string;
  date: string;
  requestId: string;
}

/** Sends `count` requests on LANES connections at once; resolves with the request ids answered 201. */
async function load(instance: Instance, prefix: string, count: number): Promise<string[]> {
  const answered: string[] = [];
  let next = 0;
  const lane = async () => {
    while (next < count) {
      const requestId = `${prefix}-${next++}`;
      expect(await post(instance.port, requestId)).toBe(201);
      answered.push(requestId);
    }
  };
  await Promise.all(Array.from({ length: LANES }, lane));
  return answered;
}

/** The whole list through the list route, in pages of `size`. */
async function pages(instance: Instance, size: number, total: number): Promise<Listed[]> {
  const out: Listed[] = [];
  for (let page = 1; (page - 1) * size < total; page++) {
    const { docs } = await getJson<{ docs: Listed[] }>(instance.port, `/auditLog?$limit=${size}&$page=${page}&$select=date,requestId`);
    out.push(...docs);
  }
  return out;
}

async function recordFromSeveral(settings: ChildSettings): Promise<void> {
  const instances = await Promise.all(Array.from({ length: INSTANCES }, () => startInstance(settings)));
  const answered = (await Promise.all(instances.map((instance, i) => load(instance, `i${i}`, PER_INSTANCE)))).flat();
  await Promise.all(instances.map((instance) => instance.flush()));

  const total = INSTANCES * PER_INSTANCE;
  const full = (await getJson<{ docs: Listed[]; items: { total: number } }>(instances[0]!.port, `/auditLog?$limit=1000&$select=date,requestId`)).docs;
  expect(full.map((doc) => doc.requestId).sort()).toEqual([...answered].sort());
  // Newest first; equal dates (entries of several processes in one millisecond) by _id, in the same direction.
  for (let i = 1; i < full.length; i++) {
    const [newer, older] = [full[i - 1]!, full[i]!];
    expect(newer.date > older.date || (newer.date === older.date && newer._id > older._id)).toBe(true);
  }
  // Every instance answers the same order, and paging through it neither skips nor repeats.
  for (const instance of instances) expect(await pages(instance, 7, total)).toEqual(full);
  await Promise.all(instances.map((instance) => instance.close()));
}

test('three processes, one SQLite file: every answered request stored once, one order for all', async () => {
  await recordFromSeveral({ store: 'file', path: path.join(tempDir(), 'audit.db'), options: { publicRoutes: true } });
});

test('SQLite: a write that finds the file locked by another process (SQLITE_BUSY past the busy timeout) is retried, not lost', async () => {
  const file = path.join(tempDir(), 'audit.db');
  const settings: ChildSettings = { store: 'file', path: file, options: { publicRoutes: true, retryMinDelayMs: 20, retryMaxDelayMs: 100 } };
  const instance = await startInstance(settings);
  await instance.flush(); // the file exists, in WAL mode
  // Another process (this one) holds the write lock.
  const other = new Database(file);
  other.exec('BEGIN IMMEDIATE');
  const answered = await load(instance, 'busy', 10);
  const during = await instance.flush();
  expect(during.failed).toBeGreaterThan(0);
  expect(during.written).toBe(0);
  other.exec('ROLLBACK');
  other.close();
  // The writer retries on its own backoff.
  await until(async () => (await instance.flush()).written === 10, 'the retried writes');
  expect(await instance.stats()).toMatchObject({ written: 10, dropped: 0 });
  const { docs } = await getJson<{ docs: Listed[] }>(instance.port, '/auditLog?$limit=100&$select=requestId');
  expect(docs.map((doc) => doc.requestId).sort()).toEqual([...answered].sort());
  await instance.close();
});

describe('MongoDB', () => {
  let mongo: MongoTarget;
  beforeAll(async () => {
    mongo = await startMongo();
  });
  afterAll(() => stopMongo(mongo));

  test('three processes, one collection: every answered request stored once, one order for all', async () => {
    await recordFromSeveral({ store: 'mongo', uri: mongo.uri, dbName: mongo.dbName, options: { publicRoutes: true } });
  });
});
