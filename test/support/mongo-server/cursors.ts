/**
 * Server-side cursors for find, aggregate, listIndexes and listCollections. Cursors are global
 * (getMore may arrive on another pool connection) and their ids are BSON int64: the driver
 * rejects an int32 id ("BSON element "id" is missing").
 */
import { Long, type Document } from 'bson';
import { sizeOf } from './bson-utils';
import { CommandError } from './errors';
import type { Projector } from './query/projection';

/** mongod's first-batch default for find/aggregate. */
export const DEFAULT_FIRST_BATCH = 101;
/** Batches stop growing at 16 MiB, like mongod; bigger ones also overflow bson's serializer. */
export const MAX_BATCH_BYTES = 16 * 1024 * 1024;
/** Projection works on clones, so large batches are cloned and sized a slice at a time. */
const SLICE = 1000;

interface OpenCursor {
  ns: string;
  docs: Document[];
  pos: number;
  project: Projector;
}

export interface BatchOptions {
  batchSize?: unknown;
  singleBatch?: unknown;
}

const noProjection: Projector = (docs) => docs;

export class CursorRegistry {
  private readonly open = new Map<number, OpenCursor>();
  // Not starting at 1 makes a test that mixes up cursors between servers fail loudly.
  private nextId = 1 + Math.floor(Math.random() * 1_000_000) * 1000;

  /** The reply's `cursor` for a fresh result set; keeps a cursor only if documents remain. */
  first(ns: string, docs: Document[], opts: BatchOptions = {}, project: Projector = noProjection): Document {
    const state: OpenCursor = { ns, docs, pos: 0, project };
    const batch = takeBatch(state, batchLimit(opts.batchSize, DEFAULT_FIRST_BATCH, false));
    let id = 0;
    if (state.pos < docs.length && opts.singleBatch !== true) {
      id = this.nextId++;
      this.open.set(id, state);
    }
    return { firstBatch: batch, id: Long.fromNumber(id), ns };
  }

  next(rawId: unknown, collection: unknown, db: string, batchSize: unknown): Document {
    const id = toNumber(rawId);
    const state = id === null ? undefined : this.open.get(id);
    if (id === null || !state) throw new CommandError(43, `cursor id ${String(rawId)} not found`);
    if (typeof collection === 'string' && `${db}.${collection}` !== state.ns) {
      throw new CommandError(13, `Requested getMore on namespace '${db}.${collection}', but cursor belongs to a different namespace ${state.ns}`);
    }
    const batch = takeBatch(state, batchLimit(batchSize, Infinity, true));
    const done = state.pos >= state.docs.length;
    if (done) this.open.delete(id);
    return { nextBatch: batch, id: Long.fromNumber(done ? 0 : id), ns: state.ns };
  }

  kill(ids: unknown[]): { killed: Long[]; notFound: Long[] } {
    const killed: Long[] = [];
    const notFound: Long[] = [];
    for (const raw of ids) {
      const id = toNumber(raw);
      const long = Long.fromNumber(id ?? 0);
      if (id !== null && this.open.delete(id)) killed.push(long);
      else notFound.push(long);
    }
    return { killed, notFound };
  }

  get size(): number {
    return this.open.size;
  }

  clear(): void {
    this.open.clear();
  }
}

function takeBatch(state: OpenCursor, maxCount: number): Document[] {
  const batch: Document[] = [];
  let bytes = 0;
  while (batch.length < maxCount && state.pos < state.docs.length) {
    const take = Math.min(maxCount - batch.length, SLICE);
    const raw = state.docs.slice(state.pos, state.pos + take);
    const projected = state.project(raw);
    for (let i = 0; i < projected.length; i += 1) {
      const doc = projected[i] as Document;
      const size = sizeOf(doc);
      if (batch.length > 0 && bytes + size > MAX_BATCH_BYTES) {
        state.pos += i;
        return batch;
      }
      batch.push(doc);
      bytes += size;
    }
    state.pos += raw.length;
  }
  return batch;
}

/**
 * Absent batchSize means the default. 0 means an empty first batch (the cursor stays open)
 * but "no limit" on getMore, as in mongod. Negative is BadValue.
 */
function batchLimit(batchSize: unknown, fallback: number, zeroIsDefault: boolean): number {
  if (batchSize === undefined || batchSize === null) return fallback;
  const n = toNumber(batchSize);
  if (n === null || n < 0) throw new CommandError(2, `BatchSize value must be non-negative, but received: ${String(batchSize)}`);
  return n === 0 && zeroIsDefault ? fallback : n;
}

function toNumber(value: unknown): number | null {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'bigint') return Number(value);
  if (Long.isLong(value)) return value.toNumber();
  return null;
}
