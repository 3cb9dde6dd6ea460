/**
 * Applying an update document the way mongod does, filling mingo's gaps: replacement
 * documents, `$setOnInsert` (mingo rejects it), upsert seeding from the query's equalities,
 * and `_id` immutability. Always works on a private copy: stored documents are never mutated,
 * so cursors and query results can hold references to them safely.
 */
import type { Document } from 'bson';
import { Aggregator, update as mingoUpdate } from 'mingo';
import { cloneDoc, formatValue, isOperatorObject, isPlainObject, keyOf, setPath, withIdFirst } from '../bson-utils';
import { CommandError, toCommandError } from '../errors';
import { MINGO_OPTIONS } from './filter';

const OPERATORS = new Set([
  '$set',
  '$unset',
  '$inc',
  '$mul',
  '$min',
  '$max',
  '$rename',
  '$currentDate',
  '$push',
  '$pull',
  '$pullAll',
  '$pop',
  '$addToSet',
  '$bit',
  '$setOnInsert',
]);

export interface UpdateOptions {
  arrayFilters?: Document[];
  /** The statement's filter, for the positional `$` operator. */
  query?: Document;
  /** True when the document is being created by an upsert: `$setOnInsert` applies. */
  inserting?: boolean;
}

export interface UpdateOutcome {
  doc: Document;
  changed: boolean;
}

export type UpdateKind = 'operators' | 'replacement' | 'pipeline';

export function updateKind(u: unknown): UpdateKind {
  if (Array.isArray(u)) return 'pipeline';
  if (!isPlainObject(u)) throw new CommandError(14, "BSON field 'u' is the wrong type, expected type 'object'");
  const keys = Object.keys(u);
  const ops = keys.filter((k) => k.startsWith('$'));
  if (ops.length === 0) return 'replacement';
  if (ops.length !== keys.length) throw new CommandError(9, 'Unknown modifier: found both operators and plain fields in an update');
  for (const op of ops) {
    if (!OPERATORS.has(op)) {
      throw new CommandError(9, `Unknown modifier: ${op}. Expected a valid update modifier or pipeline-style update specified as an array`);
    }
  }
  return 'operators';
}

/** The updated copy of `original`. */
export function applyUpdate(original: Document, u: unknown, opts: UpdateOptions = {}): UpdateOutcome {
  const kind = updateKind(u);
  let doc: Document;
  if (kind === 'replacement') {
    const replacement = u as Document;
    if ('_id' in replacement && keyOf(replacement._id) !== keyOf(original._id)) throw immutableId(replacement._id);
    doc = { _id: original._id, ...cloneDoc(replacement) };
    if (!('_id' in original)) delete doc._id;
  } else if (kind === 'pipeline') {
    doc = runPipeline(cloneDoc(original), u as Document[]);
  } else {
    doc = cloneDoc(original);
    applyOperators(doc, u as Document, opts);
  }
  if ('_id' in original && keyOf(doc._id) !== keyOf(original._id)) throw immutableId(doc._id);
  doc = withIdFirst(doc);
  return { doc, changed: keyOf(doc) !== keyOf(original) };
}

/** The document an upsert inserts: the query's equality fields, then the update applied. */
export function buildUpsert(query: Document, u: unknown, opts: UpdateOptions = {}): Document {
  const seed = upsertSeed(query);
  const kind = updateKind(u);
  if (kind === 'replacement') {
    // A replacement keeps only the query's _id, not its other fields (mongod does the same).
    const doc = cloneDoc(u as Document);
    if (!('_id' in doc) && '_id' in seed) return withIdFirst({ _id: seed._id, ...doc });
    return withIdFirst(doc);
  }
  const outcome = applyUpdate(seed, u, { ...opts, inserting: true, query: undefined });
  return withIdFirst(outcome.doc);
}

function applyOperators(doc: Document, modifier: Document, opts: UpdateOptions): void {
  const { $setOnInsert, ...rest } = modifier;
  try {
    mingoUpdate(doc, rest, opts.arrayFilters, opts.query, { queryOptions: MINGO_OPTIONS });
    // mingo has no $setOnInsert: it is a $set that only counts when the upsert inserts.
    if (opts.inserting && isPlainObject($setOnInsert)) mingoUpdate(doc, { $set: $setOnInsert }, undefined, undefined, { queryOptions: MINGO_OPTIONS });
  } catch (err) {
    throw mapUpdateError(err);
  }
}

function runPipeline(doc: Document, pipeline: Document[]): Document {
  try {
    const [out] = new Aggregator(pipeline, MINGO_OPTIONS).run([doc]);
    if (!out) throw new CommandError(2, 'update pipeline removed the document');
    return out;
  } catch (err) {
    throw mapUpdateError(err);
  }
}

/** Top-level equalities (`a: 1`, `a: {$eq: 1}`, inside `$and`) become the new document's fields. */
export function upsertSeed(query: Document): Document {
  const seed: Document = {};
  const collect = (q: Document): void => {
    for (const [key, value] of Object.entries(q)) {
      if (key === '$and' && Array.isArray(value)) {
        for (const part of value) if (isPlainObject(part)) collect(part);
      } else if (key.startsWith('$') || value instanceof RegExp) {
        continue;
      } else if (isOperatorObject(value)) {
        if ('$eq' in value && !isOperatorObject(value.$eq)) setPath(seed, key, value.$eq);
      } else {
        setPath(seed, key, value);
      }
    }
  };
  collect(query);
  return cloneDoc(seed);
}

function immutableId(id: unknown): CommandError {
  return new CommandError(66, `After applying the update, the (immutable) field '_id' was found to have been altered to _id: ${formatValue(id)}`);
}

function mapUpdateError(err: unknown): CommandError {
  if (err instanceof CommandError) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (message.includes("immutable field '_id'")) return new CommandError(66, message);
  if (message.includes('Unknown update operator')) return new CommandError(9, message);
  return toCommandError(err, 2);
}
