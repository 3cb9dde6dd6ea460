/**
 * Version 0.1's file store kept its entries in a nedb data file: one JSON document per line,
 * appended on every change, Dates as `{"$$date": ms}`, a later line for an `_id` replacing an
 * earlier one, `{"$$deleted": true}` removing it, and `$$indexCreated`/`$$indexRemoved` lines
 * about indexes. This reads such a file line by line (never all of it in memory) and hands
 * its live documents over in batches, as nedb itself would have loaded them.
 */
import fs from 'fs';
import readline from 'readline';

/** The first bytes of every SQLite database file. */
const SQLITE_HEADER = Buffer.from('SQLite format 3\u0000', 'latin1');

export type DataFileKind = 'missing' | 'empty' | 'sqlite' | 'nedb' | 'unknown';

/** What is at `file`: judged by its first bytes (a nedb file starts with a JSON document). */
export async function dataFileKind(file: string): Promise<DataFileKind> {
  let handle: fs.promises.FileHandle;
  try {
    handle = await fs.promises.open(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw error;
  }
  try {
    const head = Buffer.alloc(SQLITE_HEADER.length);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    if (bytesRead === 0) return 'empty';
    if (bytesRead === head.length && head.equals(SQLITE_HEADER)) return 'sqlite';
    const text = head.subarray(0, bytesRead).toString('utf8').trimStart();
    return text === '' || text.startsWith('{') ? 'nedb' : 'unknown';
  } finally {
    await handle.close();
  }
}

function revive(key: string, value: unknown): unknown {
  if (key === '$$date') return new Date(value as number);
  if (value !== null && typeof value === 'object' && (value as { $$date?: unknown }).$$date instanceof Date) return (value as { $$date: Date }).$$date;
  return value;
}

export interface NedbImport {
  /** Lines that were not JSON documents (nedb skips them too, up to 10% of the file). */
  corrupt: number;
}

export interface NedbSink {
  /** Stores documents (a later one with the same `_id` replaces the earlier). */
  upsert(docs: Array<Record<string, unknown>>): void;
  /** Removes documents by `_id`. */
  remove(ids: string[]): void;
}

/**
 * Replays the file's lines, in order, into the sink, a few thousand at a time. Order matters:
 * an update or a deletion is a later line for the same `_id`.
 */
export async function replayNedbFile(file: string, sink: NedbSink, batchSize = 2000): Promise<NedbImport> {
  const lines = readline.createInterface({ input: fs.createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  let corrupt = 0;
  let pending: Array<Record<string, unknown>> = [];
  const flush = (): void => {
    if (pending.length > 0) sink.upsert(pending);
    pending = [];
  };
  for await (const line of lines) {
    if (line.trim() === '') continue;
    let doc: unknown;
    try {
      doc = JSON.parse(line, revive);
    } catch {
      corrupt += 1;
      continue;
    }
    if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
      corrupt += 1;
      continue;
    }
    const record = doc as Record<string, unknown>;
    if (typeof record._id !== 'string') continue; // index bookkeeping ($$indexCreated, $$indexRemoved)
    if (record.$$deleted === true) {
      flush();
      sink.remove([record._id]);
    } else {
      pending.push(record);
      if (pending.length >= batchSize) flush();
    }
  }
  flush();
  return { corrupt };
}
