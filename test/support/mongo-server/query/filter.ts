/**
 * Filters and sorts through mingo, with mongod's error codes instead of mingo's exceptions,
 * and a direct `_id` lookup so findById/update-by-id stay O(1) on large collections.
 */
import type { Document } from 'bson';
import { Query } from 'mingo';
import { isOperatorObject, isPlainObject } from '../bson-utils';
import { CommandError, toCommandError } from '../errors';
import { checkFilter, rewriteForMingo } from './mongod-filter';

/**
 * Options for every mingo call. No server-side JavaScript ($where, $function, $accumulator):
 * mingo would run it on the test process's only thread, where one endless loop hangs everything.
 */
export const MINGO_OPTIONS = { scriptEnabled: false } as const;

/** What a filter can be asked of: the stored docs in natural order, and lookup by `_id`. */
export interface DocSource {
  all(): Document[];
  byId(id: unknown): Document | undefined;
}

/** Stands in for a collection that does not exist: filters are still checked, nothing matches. */
export const EMPTY_SOURCE: DocSource = { all: () => [], byId: () => undefined };

export interface SelectOptions {
  sort?: unknown;
  skip?: number;
  /** 0 = no limit. */
  limit?: number;
}

export function compileFilter(filter: unknown, field = 'filter'): Query {
  if (filter === undefined || filter === null) return new Query({}, MINGO_OPTIONS);
  if (!isPlainObject(filter)) throw new CommandError(14, `BSON field '${field}' is the wrong type, expected type 'object'`);
  // mingo has no $text; mongod without a text index answers exactly this.
  if (mentions(filter, '$text')) throw new CommandError(27, 'text index required for $text query');
  checkFilter(filter);
  try {
    return new Query(rewriteForMingo(filter), MINGO_OPTIONS);
  } catch (err) {
    throw toCommandError(err, 2);
  }
}

/** Matching documents (references to stored, never-mutated docs) in sort order, after skip/limit. */
export function selectDocs(source: DocSource, filter: unknown, opts: SelectOptions = {}): Document[] {
  const query = compileFilter(filter);
  const skip = opts.skip ?? 0;
  const limit = opts.limit ?? 0;
  const sort = normalizeSort(opts.sort);
  try {
    const candidates = idCandidates(source, filter) ?? source.all();
    if (!sort) {
      // Without a sort, stop scanning at the limit: updateOne/deleteOne on a big collection stay cheap.
      const out: Document[] = [];
      let skipped = 0;
      for (const doc of candidates) {
        if (!query.test(doc)) continue;
        if (skipped < skip) {
          skipped += 1;
          continue;
        }
        out.push(doc);
        if (limit > 0 && out.length >= limit) break;
      }
      return out;
    }
    let cursor = query.find<Document>(candidates).sort(sort);
    if (skip > 0) cursor = cursor.skip(skip);
    if (limit > 0) cursor = cursor.limit(limit);
    return cursor.all();
  } catch (err) {
    throw toCommandError(err, 2);
  }
}

/** `{$natural: ±1}` is the storage order; anything else goes to mingo. Returns null for "no sort". */
function normalizeSort(sort: unknown): Document | null {
  if (sort === undefined || sort === null) return null;
  if (!isPlainObject(sort)) throw new CommandError(14, "Expected field 'sort' to be of type object");
  const keys = Object.keys(sort);
  if (keys.length === 0) return null;
  if (keys.length === 1 && keys[0] === '$natural') return null;
  for (const [key, dir] of Object.entries(sort)) {
    if (dir !== 1 && dir !== -1) throw new CommandError(2, `$sort key ordering must be 1 (for ascending) or -1 (for descending); got ${key}`);
  }
  return sort;
}

/** The docs a filter can only match, when it pins `_id` to values; null means "scan everything". */
function idCandidates(source: DocSource, filter: unknown): Document[] | null {
  if (!isPlainObject(filter) || !('_id' in filter)) return null;
  const id: unknown = filter._id;
  if (isPlainObject(id) && Object.keys(id).length === 1 && Array.isArray(id.$in)) {
    if (id.$in.some((v) => !isSimpleValue(v))) return null;
    // mongod walks the _id index for $in, so results come in _id order, not natural order;
    // callers that care send a sort. Duplicates in $in must not duplicate results.
    const found = new Set<Document>();
    for (const v of id.$in) {
      const doc = source.byId(v);
      if (doc) found.add(doc);
    }
    return [...found];
  }
  if (isPlainObject(id) && Object.keys(id).length === 1 && '$eq' in id && isSimpleValue(id.$eq)) {
    const doc = source.byId(id.$eq);
    return doc ? [doc] : [];
  }
  if (!isSimpleValue(id)) return null;
  const doc = source.byId(id);
  return doc ? [doc] : [];
}

/** Values that can only equal themselves (no operators, regexes or arrays, whose matching is wider). */
function isSimpleValue(value: unknown): boolean {
  return !(value instanceof RegExp) && !Array.isArray(value) && !isOperatorObject(value) && value !== null;
}

/** Whether an operator appears anywhere in a filter (through $and/$or/$nor and nesting). */
export function mentions(value: unknown, operator: string): boolean {
  if (Array.isArray(value)) return value.some((v) => mentions(v, operator));
  if (!isPlainObject(value)) return false;
  return Object.entries(value).some(([k, v]) => k === operator || mentions(v, operator));
}
