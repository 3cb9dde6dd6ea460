/** What every command handler gets, and small helpers for reading command fields. */
import { Long, type Document } from 'bson';
import type { CursorRegistry } from '../cursors';
import { CommandError } from '../errors';
import type { Storage } from '../storage/storage';

/**
 * 'standalone': a lone mongod (the driver sends no read preference). 'replicaSet': the primary
 * of a one-member replica set 'rs0'. 'sharded': a mongos. Storage is the same in all three; only
 * what the driver sees, and so what it sends, changes.
 */
export type Topology = 'standalone' | 'replicaSet' | 'sharded';

/** Facts about the running server that status-like commands report. */
export interface ServerInfo {
  readonly port: number;
  /** What `hello` presents the server as; see StartOptions.topology. */
  readonly topology: Topology;
  readonly startedAt: number;
  connectionCount(): number;
}

export interface CommandContext {
  readonly db: string;
  readonly name: string;
  readonly body: Document;
  readonly storage: Storage;
  readonly cursors: CursorRegistry;
  readonly connectionId: number;
  readonly server: ServerInfo;
}

/** Handlers are synchronous, so every command is atomic with respect to all connections. */
export type CommandHandler = (ctx: CommandContext) => Document;

/** Fields the driver adds to every command; they are never command options. */
export const ENVELOPE_FIELDS = new Set([
  '$db',
  'lsid',
  '$clusterTime',
  '$readPreference',
  'apiVersion',
  'apiStrict',
  'apiDeprecationErrors',
  'writeConcern',
  'readConcern',
  'comment',
  'maxTimeMS',
  'txnNumber',
  'autocommit',
  'startTransaction',
]);

/** The collection a command names in its first field (`{find: 'users'}`). */
export function collectionName(ctx: CommandContext): string {
  const value: unknown = ctx.body[ctx.name];
  if (typeof value !== 'string' || value === '') {
    throw new CommandError(73, `collection name has invalid type ${value === null ? 'null' : typeof value}`);
  }
  return value;
}

export function requireArray(ctx: CommandContext, field: string): unknown[] {
  const value: unknown = ctx.body[field];
  if (value === undefined) throw new CommandError(40414, `BSON field '${ctx.name}.${field}' is missing but a required field`);
  if (!Array.isArray(value)) throw new CommandError(14, `BSON field '${ctx.name}.${field}' is the wrong type, expected type 'array'`);
  return value;
}

/** A non-negative integer option such as skip or limit; absent means `fallback`. */
export function nonNegative(ctx: CommandContext, field: string, fallback = 0): number {
  const value: unknown = ctx.body[field];
  if (value === undefined || value === null) return fallback;
  const n = Long.isLong(value) ? value.toNumber() : typeof value === 'number' ? value : NaN;
  if (!Number.isFinite(n)) throw new CommandError(14, `BSON field '${ctx.name}.${field}' is the wrong type, expected a number`);
  if (n < 0) throw new CommandError(51024, `BSON field '${field}' value must be >= 0, actual value '${n}'`);
  return Math.trunc(n);
}

/** A write command's reply: `writeErrors` only when there are some, as mongod does. */
export function writeReply(fields: Document, writeErrors: Document[]): Document {
  return writeErrors.length > 0 ? { ...fields, writeErrors, ok: 1 } : { ...fields, ok: 1 };
}
