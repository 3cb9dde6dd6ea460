/** Helpers for the wire-server tests: wait on events and data, never on the clock. */
import mongoose from 'mongoose';
import type { CommandEvent, MongoTestServer } from '../support/mongo-server';

/** Resolves with the next arriving command called `name` (and matching `test`). */
export function nextCommand(server: MongoTestServer, name: string, test: (e: CommandEvent) => boolean = () => true): Promise<CommandEvent> {
  return new Promise((resolve) => {
    const listener = (e: CommandEvent): void => {
      if (e.name !== name || !test(e)) return;
      server.off('command', listener);
      resolve(e);
    };
    server.on('command', listener);
  });
}

/** Polls `condition` until it holds; fails after a generous bound instead of hanging. */
export async function until(condition: () => boolean | Promise<boolean>, what: string, limitMs = 10_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

let dbCounter = 0;

/** A fresh mongoose connection to its own database on `server`. */
export function connect(server: MongoTestServer, options: mongoose.ConnectOptions = {}): Promise<mongoose.Connection> {
  dbCounter += 1;
  return mongoose.createConnection(server.uri, { dbName: `wire_test_${dbCounter}`, serverSelectionTimeoutMS: 5000, ...options }).asPromise();
}

/** The rejection of `promise`, failing the test if it resolves. */
export type ServerErrorLike = Error & { code?: number; codeName?: string; [field: string]: unknown };

export async function rejection(promise: Promise<unknown>): Promise<ServerErrorLike> {
  try {
    await promise;
  } catch (err) {
    return err as ServerErrorLike;
  }
  throw new Error('expected the operation to fail, but it succeeded');
}

/**
 * Whether the operation failed because the connection went away. The driver's bulk path
 * (insertMany) reports that as a MongoBulkWriteError whose errorResponse is the network error.
 */
export function isNetworkError(err: ServerErrorLike): boolean {
  const response = err.errorResponse as { name?: string } | undefined;
  return err.name === 'MongoNetworkError' || response?.name === 'MongoNetworkError';
}
