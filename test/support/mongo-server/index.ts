/**
 * An in-process MongoDB wire-protocol server for tests: the real mongoose driver talks to it
 * over TCP on 127.0.0.1, as it would to a standalone mongod 7.0. State lives in memory;
 * filters, updates and pipelines are evaluated with mingo. cli.ts runs it as its own process.
 */
import { WireServer, type MongoTestServer, type StartOptions } from './server';

export type { MongoTestServer, StartOptions, StoredCollection } from './server';
export type { Faults, DropOptions, FailOptions } from './faults';
export type { CommandEvent } from './connection';

export async function startMongoTestServer(opts: StartOptions = {}): Promise<MongoTestServer> {
  return new WireServer().start(opts);
}
