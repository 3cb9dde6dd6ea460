/**
 * A log on each kind of store that a test can tamper with behind the product's back, as someone
 * with write access to the database would: the memory store's contents edited and loaded into a
 * fresh store, the file store's data file edited on disk, MongoDB's documents changed through
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

// nedb's own (de)serialization, so an edited data file reads back as nedb wrote it.
const nedbModel = require('@seald-io/nedb/lib/model.js') as { serialize(doc: unknown): string; deserialize(line: string): Record<string, unknown> };

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

function memoryLog(): TamperLog {
  let current = memoryStore({ maxEntries: 1_000_000 });
  let entries: Doc[] | null = null;
  let checkpoints: Doc[] | null = null;
  // Tampering starts from what the store holds, read once through its public methods.
  const load = async () => {
    if (entries && checkpoints) return { entries, checkpoints };
    entries = (await current.find({ filter: {}, sort: [['_id', 1]], skip: 0, limit: 1_000_000, select: null })).docs as Doc[];
    checkpoints = (await current.findCheckpoints!({ after: null, limit: 1_000_000 })) as unknown as Doc[];
    return { entries, checkpoints };
  };
  return {
    kind: 'memory',
    async open() {
      if (!entries || !checkpoints) return current;
      current = memoryStore({ maxEntries: 1_000_000 });
      await current.insertMany(entries as AuditEntry[]);
      await current.insertCheckpoints!(checkpoints as unknown as AuditCheckpoint[]);
      entries = null;
      checkpoints = null;
      return current;
    },
    async updateEntry(id, change) {
      change((await load()).entries.find((doc) => doc._id === id)!);
    },
    async removeEntry(id) {
      const state = await load();
      state.entries.splice(state.entries.findIndex((doc) => doc._id === id), 1);
    },
    async insertEntry(entry) {
      (await load()).entries.push(entry as unknown as Doc);
    },
    async updateCheckpoint(id, change) {
      change((await load()).checkpoints.find((doc) => doc._id === id)!);
    },
    async removeCheckpoint(id) {
      const state = await load();
      state.checkpoints.splice(state.checkpoints.findIndex((doc) => doc._id === id), 1);
    },
    expire: async () => undefined,
    cleanup: async () => undefined,
  };
}

/** nedb's append-only file, rewritten with the change: a later line for an _id replaces the earlier one. */
function editNedbFile(file: string, edit: (docs: Map<string, Doc>) => void): void {
  const kept: string[] = [];
  const docs = new Map<string, Doc>();
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (line === '') continue;
    const doc = nedbModel.deserialize(line);
    if (doc.$$indexCreated || doc.$$indexRemoved) kept.push(line);
    else if (doc.$$deleted === true) docs.delete(String(doc._id));
    else docs.set(String(doc._id), doc);
  }
  edit(docs);
  fs.writeFileSync(file, [...kept, ...[...docs.values()].map((doc) => nedbModel.serialize(doc))].join('\n') + '\n', { mode: 0o600 });
}

function fileLog(): TamperLog {
  const dir = tempDir('eal-tamper-');
  const file = path.join(dir, 'audit.db');
  return {
    kind: 'file',
    open: async () => fileStore({ path: file }),
    async updateEntry(id, change) {
      editNedbFile(file, (docs) => change(docs.get(id)!));
    },
    async removeEntry(id) {
      editNedbFile(file, (docs) => docs.delete(id));
    },
    async insertEntry(entry) {
      editNedbFile(file, (docs) => docs.set(entry._id, { ...entry }));
    },
    async updateCheckpoint(id, change) {
      editNedbFile(`${file}.checkpoints`, (docs) => change(docs.get(id)!));
    },
    async removeCheckpoint(id) {
      editNedbFile(`${file}.checkpoints`, (docs) => docs.delete(id));
    },
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
