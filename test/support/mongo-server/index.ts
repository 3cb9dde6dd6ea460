/**
 * An in-process MongoDB wire-protocol server for tests: the real mongoose/driver talks to it
 * over TCP. State lives in memory; queries and updates are answered with mingo.
 * See README-limits in the report / cli.ts for running it as its own process.
 */
import { WireServer, type MongoTestServer, type StartOptions } from './server';

export type { MongoTestServer, StartOptions } from './server';
export type { Faults, DropOptions, FailOptions } from './faults';
export type { CommandEvent } from './connection';

export async function startMongoTestServer(opts: StartOptions = {}): Promise<MongoTestServer> {
  return new WireServer().start(opts);
}
