/**
 * Opens each kind of store for the suites that run against all of them. The MongoDB kind uses
 * the in-process wire-protocol server, or the real server in MONGODB_URI when it is set.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mongoose from 'mongoose';
import { fileStore, memoryStore, mongoStore, type AuditStore } from 'express-audit-log';
import type { MongoTarget } from './mongo';

export type StoreKind = 'memory' | 'file' | 'mongo';
export const STORE_KINDS: StoreKind[] = ['memory', 'file', 'mongo'];

export interface OpenedStore {
  kind: StoreKind;
  store: AuditStore;
  /** The MongoDB target, for the mongo kind. */
  mongo: MongoTarget | null;
  connection: mongoose.Connection | null;
  cleanup(): Promise<void>;
}

export function tempDir(prefix = 'eal-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export async function openStore(kind: StoreKind, options: { sweepIntervalMs?: number; ttlMonitorIntervalMs?: number } = {}): Promise<OpenedStore> {
  if (kind === 'memory') {
    return { kind, store: memoryStore({ sweepIntervalMs: options.sweepIntervalMs }), mongo: null, connection: null, cleanup: async () => undefined };
  }
  if (kind === 'file') {
    const dir = tempDir();
    return {
      kind,
      store: fileStore({ path: path.join(dir, 'audit.db'), sweepIntervalMs: options.sweepIntervalMs }),
      mongo: null,
      connection: null,
      cleanup: async () => fs.rmSync(dir, { recursive: true, force: true }),
    };
  }
  const { startMongo, stopMongo } = await import('./mongo');
  const target = await startMongo({ ttlMonitorIntervalMs: options.ttlMonitorIntervalMs });
  const connection = await mongoose.createConnection(target.uri, { dbName: target.dbName, serverSelectionTimeoutMS: 5000 }).asPromise();
  return {
    kind,
    store: mongoStore({ connection }),
    mongo: target,
    connection,
    cleanup: async () => {
      await connection.close();
      await stopMongo(target);
    },
  };
}
