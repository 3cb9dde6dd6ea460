/**
 * The SQLite binding, loaded only when an app asks for `fileStore()`: an app on MongoDB never
 * loads (or builds) a native module. The types are the few parts of better-sqlite3 the store
 * uses, declared here so the published types name no optional dependency.
 */
import { AuditLogConfigError } from '../errors';

export interface SqliteRunResult {
  changes: number;
  lastInsertRowid: number | bigint;
}

export interface SqliteStatement {
  run(...params: unknown[]): SqliteRunResult;
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
}

export interface SqliteDatabase {
  prepare(sql: string): SqliteStatement;
  exec(sql: string): unknown;
  pragma(source: string, options?: { simple?: boolean }): unknown;
  transaction<F extends (...args: never[]) => unknown>(fn: F): F;
  function(name: string, options: { deterministic?: boolean; varargs?: boolean; directOnly?: boolean }, fn: (...args: never[]) => unknown): unknown;
  close(): unknown;
  readonly open: boolean;
}

export type SqliteOpen = (file: string) => SqliteDatabase;

export const INSTALL_HINT = 'npm install better-sqlite3@12';

/**
 * better-sqlite3, or a config error that says how to install it. A broken build (a binding
 * compiled for another Node) is reported with its own message: reinstalling is the fix there too.
 */
export function loadSqlite(): SqliteOpen {
  let Database: new (file: string, options?: { timeout?: number }) => SqliteDatabase;
  try {
    // A plain require, resolved from the app: the binding is an optional peer dependency.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    Database = require('better-sqlite3') as typeof Database;
  } catch (error) {
    const missing = (error as { code?: string }).code === 'MODULE_NOT_FOUND' && /better-sqlite3/.test(String((error as Error).message));
    throw new AuditLogConfigError(
      'EAUDIT_NO_SQLITE',
      'store',
      missing
        ? `fileStore() keeps entries in SQLite through the optional peer dependency better-sqlite3, which is not installed: run \`${INSTALL_HINT}\` (or use mongoStore() or memoryStore()).`
        : `fileStore() could not load better-sqlite3 (${(error as Error).message}); reinstall it for this Node version: \`${INSTALL_HINT}\`.`,
    );
  }
  // A busy wait blocks the event loop: keep it short, the writer retries a busy database later.
  return (file) => new Database(file, { timeout: 200 });
}
