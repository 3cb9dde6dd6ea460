/**
 * A log on each kind of store that a test can tamper with behind the product's back, as someone
 * with write access to the database would: the memory store's contents edited and loaded into a
 * fresh store, the file store's rows rewritten into a new database file, MongoDB's documents changed through
 * the test server's own collection access (or the raw driver when MONGODB_URI names a real server).
 */
import fs from 'node:fs';
import path from 'node:path';
import { BSON, ObjectId, type Document } from 'bson';
import mongoose from 'mongoose';
import { fileStore, memoryStore, mongoStore, type AuditEntry, type AuditStore } from 'express-audit-log';
import type { AuditCheckpoint } from '../../src/integrity/checkpoint';
import { tempDir, type StoreKind } from './stores';
import { startMongo, stopMongo, type MongoTarget } from './mongo';

// biome-ignore lint/suspicious/noExplicitAny: tests reach into stored documents of any shape, as a database user would
type Doc = Record<string, any>;

export interface TamperLog {
  kind: StoreKind;
  /** A store over the log as it stands now; open a new one after tampering. */
  open(): Promise<AuditStore>;
  updateEntry(id: string, change: (doc: Doc) => void): Promise<void>;
  removeEntry(id: string): Promise<void>;
  insertEntry(entry: AuditEntry): Promise<void>;
  updateCheckpoint(id: string, change: (doc: Doc) => void): Promise<void>;
  removeCheckpoint(id: string): Promise<void>;
  /** Lets the TTL remove what it may now (MongoDB's monitor; the embedded stores hide expired entries on read). */
  expire(): Promise<void>;
  cleanup(): Promise<void>;
}

interface Contents {
  entries: Doc[];
  checkpoints: Doc[];
}

/** The edits, on contents read once through a store's public methods and written back on the next open(). */
function edits(load: () => Promise<Contents>): Pick<TamperLog, 'updateEntry' | 'removeEntry' | 'insertEntry' | 'updateCheckpoint' | 'removeCheckpoint'> {
  return {
    async updateEntry(id, change) {
      change((await load()).entries.find((doc) => doc._id === id)!);
    },
    async removeEntry(id) {
      const state = await load();
      state.entries.splice(
        state.entries.findIndex((doc) => doc._id === id),
        1,
      );
    },
    async insertEntry(entry) {
      (await load()).entries.push(entry as unknown as Doc);
    },
    async updateCheckpoint(id, change) {
      change((await load()).checkpoints.find((doc) => doc._id === id)!);
    },
    async removeCheckpoint(id) {
      const state = await load();
      state.checkpoints.splice(
        state.checkpoints.findIndex((doc) => doc._id === id),
        1,
      );
    },
  };
}

async function readContents(store: AuditStore): Promise<Contents> {
  return {
    entries: (await store.find({ filter: {}, sort: [['_id', 1]], skip: 0, limit: 1_000_000, select: null })).docs as Doc[],
    checkpoints: (await store.findCheckpoints!({ after: null, limit: 1_000_000 })) as unknown as Doc[],
  };
}

async function writeContents(store: AuditStore, contents: Contents): Promise<void> {
  await store.insertMany(contents.entries as AuditEntry[]);
  await store.insertCheckpoints!(contents.checkpoints as unknown as AuditCheckpoint[]);
}

/** The memory store: its contents edited and loaded into a fresh store. */
function memoryLog(): TamperLog {
  let current = memoryStore({ maxEntries: 1_000_000 });
  let pending: Contents | null = null;
  const load = async () => (pending ??= await readContents(current));
  return {
    kind: 'memory',
    async open() {
      if (!pending) return current;
      current = memoryStore({ maxEntries: 1_000_000 });
      await writeContents(current, pending);
      pending = null;
      return current;
    },
    ...edits(load),
    expire: async () => undefined,
    cleanup: async () => undefined,
  };
}

/**
 * The file store: its rows read with SQLite, edited, and written into a new database file, as
 * someone with the file could. A closed store cannot be reopened, so every open() is a new store.
 */
function fileLog(): TamperLog {
  const dir = tempDir('eal-tamper-');
  let generation = 0;
  let file = path.join(dir, 'audit-0.db');
  let pending: Contents | null = null;
  const load = async () => {
    if (pending) return pending;
    const reader = fileStore({ path: file });
    await reader.init({ ttlSeconds: null });
    try {
      pending = await readContents(reader);
    } finally {
      await reader.close();
    }
    return pending;
  };
  return {
    kind: 'file',
    async open() {
      if (pending) {
        file = path.join(dir, `audit-${++generation}.db`);
        const writer = fileStore({ path: file });
        await writer.init({ ttlSeconds: null });
        await writeContents(writer, pending);
        await writer.close();
        pending = null;
      }
      return fileStore({ path: file });
    },
    ...edits(load),
    expire: async () => undefined,
    cleanup: async () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

let mongoTarget: MongoTarget | null = null;
let mongoConnection: mongoose.Connection | null = null;
let collections = 0;

/** One server and connection for every MongoDB log of a test file; `stopMongoLogs` in afterAll. */
export async function stopMongoLogs(): Promise<void> {
  await mongoConnection?.close();
  if (mongoTarget) await stopMongo(mongoTarget);
  mongoConnection = null;
  mongoTarget = null;
}

async function mongoLog(): Promise<TamperLog> {
  mongoTarget ??= await startMongo();
  mongoConnection ??= await mongoose.createConnection(mongoTarget.uri, { dbName: mongoTarget.dbName, serverSelectionTimeoutMS: 5000 }).asPromise();
  const connection = mongoConnection;
  const target = mongoTarget;
  const name = `tamper_${collections++}`;
  const copy = (doc: Document): Document => BSON.deserialize(BSON.serialize(doc));
  /** Changes one stored document: through the test server's storage, or the raw driver on a real server. */
  const update = async (collection: string, id: unknown, change: (doc: Doc) => void) => {
    const stored = target.server?.collection(target.dbName, collection);
    if (stored) {
      const before = stored.byId(id)!;
      const after = copy(before);
      change(after);
      stored.replace(before, after);
      return;
    }
    const raw = connection.db!.collection(collection);
    const doc = (await raw.findOne({ _id: id as never }))!;
    change(doc);
    await raw.replaceOne({ _id: id as never }, doc);
  };
  return {
    kind: 'mongo',
    open: async () => mongoStore({ connection, collection: name }),
    updateEntry: (id, change) => update(name, new ObjectId(id), change),
    async removeEntry(id) {
      const stored = target.server?.collection(target.dbName, name);
      if (stored) stored.remove(stored.byId(new ObjectId(id))!);
      else await connection.db!.collection(name).deleteOne({ _id: new ObjectId(id) });
    },
    async insertEntry(entry) {
      const { _id, ...rest } = entry;
      const doc = { _id: new ObjectId(_id), ...rest };
      const stored = target.server?.collection(target.dbName, name);
      if (stored) stored.insert(copy(doc));
      else await connection.db!.collection(name).insertOne(doc);
    },
    updateCheckpoint: (id, change) => update(`${name}.checkpoints`, id, change),
    async removeCheckpoint(id) {
      const stored = target.server?.collection(target.dbName, `${name}.checkpoints`);
      if (stored) stored.remove(stored.byId(id)!);
      else await connection.db!.collection(`${name}.checkpoints`).deleteOne({ _id: id as never });
    },
    // The test server's monitor on demand; a real server's runs every 60 s, so those tests wait for it.
    expire: async () => void (await target.server?.runTtlMonitor()),
    cleanup: async () => undefined,
  };
}

export async function tamperableLog(kind: StoreKind): Promise<TamperLog> {
  if (kind === 'memory') return memoryLog();
  if (kind === 'file') return fileLog();
  return mongoLog();
}
