/**
 * aggregate (through mingo's Aggregator), count and distinct. countDocuments arrives as
 * `aggregate [{$match}, {$group: {_id: 1, n: {$sum: 1}}}]`, estimatedDocumentCount as `count`.
 */
import type { Document } from 'bson';
import { Aggregator } from 'mingo';
import { cloneDoc, isPlainObject, keyOf, valuesAtPath } from '../bson-utils';
import { CommandError, toCommandError } from '../errors';
import { EMPTY_SOURCE, MINGO_OPTIONS, mentions, selectDocs, type DocSource } from '../query/filter';
import { collectionName, nonNegative, requireArray, type CommandContext } from './context';

/** Stages that never modify their input documents, so stored documents can be fed to them as is. */
const READ_ONLY_STAGES = new Set(['$match', '$sort', '$skip', '$limit', '$count', '$group', '$sortByCount']);
const UNSUPPORTED_STAGES = new Set(['$out', '$merge', '$search', '$geoNear', '$changeStream', '$collStats', '$indexStats', '$currentOp']);

export function aggregate(ctx: CommandContext): Document {
  const target: unknown = ctx.body.aggregate;
  const pipeline = requireArray(ctx, 'pipeline');
  if (!isPlainObject(ctx.body.cursor)) {
    throw new CommandError(9, "The 'cursor' option is required, except for aggregate with the explain argument");
  }
  const stages = pipeline.map((stage, i) => {
    if (!isPlainObject(stage) || Object.keys(stage).length !== 1) {
      throw new CommandError(40323, `A pipeline stage specification object must contain exactly one field (stage ${i}).`);
    }
    const op = Object.keys(stage)[0] as string;
    if (UNSUPPORTED_STAGES.has(op)) throw new CommandError(2, `${op} is not supported by the in-process test server`);
    return { op, stage };
  });
  if (mentions(pipeline, '$text')) throw new CommandError(27, 'text index required for $text query');

  let ns = `${ctx.db}.$cmd.aggregate`;
  let source: DocSource = EMPTY_SOURCE;
  if (target !== 1) {
    const name = collectionName(ctx);
    ns = `${ctx.db}.${name}`;
    source = ctx.storage.get(ctx.db, name) ?? EMPTY_SOURCE;
  }
  // Leading $match stages go through selectDocs: it uses the _id lookup and never mutates.
  let rest = stages;
  let docs: Document[] | null = null;
  while (rest[0]?.op === '$match') {
    const matched: Document[] | null = docs;
    docs = selectDocs(matched ? { all: () => matched, byId: () => undefined } : source, rest[0].stage.$match);
    rest = rest.slice(1);
  }
  docs ??= source.all();
  if (rest.length > 0) {
    // Mingo updates documents in place in stages like $set/$project: give it copies then.
    const readOnly = rest.every(({ op }) => READ_ONLY_STAGES.has(op));
    const input = readOnly ? docs : docs.map(cloneDoc);
    const resolver = (name: string): Document[] => (ctx.storage.get(ctx.db, name)?.all() ?? []).map(cloneDoc);
    try {
      docs = new Aggregator(
        rest.map(({ stage }) => stage),
        { ...MINGO_OPTIONS, collectionResolver: resolver },
      ).run(input);
    } catch (err) {
      throw toCommandError(err, 2);
    }
  }
  return { cursor: ctx.cursors.first(ns, docs, ctx.body.cursor as Document), ok: 1 };
}

export function count(ctx: CommandContext): Document {
  const collection = ctx.storage.get(ctx.db, collectionName(ctx));
  const query: unknown = ctx.body.query ?? {};
  const skip = nonNegative(ctx, 'skip');
  const limit = Math.abs(typeof ctx.body.limit === 'number' ? ctx.body.limit : 0);
  const unfiltered = isPlainObject(query) && Object.keys(query).length === 0;
  if (collection && unfiltered) {
    // estimatedDocumentCount on a big collection must not scan.
    const n = Math.max(0, collection.count - skip);
    return { n: limit > 0 ? Math.min(n, limit) : n, ok: 1 };
  }
  return { n: selectDocs(collection ?? EMPTY_SOURCE, query, { skip, limit }).length, ok: 1 };
}

export function distinct(ctx: CommandContext): Document {
  const collection = ctx.storage.get(ctx.db, collectionName(ctx));
  const key: unknown = ctx.body.key;
  if (typeof key !== 'string') throw new CommandError(14, "BSON field 'distinct.key' is the wrong type, expected type 'string'");
  const values = new Map<string, unknown>();
  for (const doc of selectDocs(collection ?? EMPTY_SOURCE, ctx.body.query ?? {})) {
    for (const value of valuesAtPath(doc, key)) {
      const k = keyOf(value);
      if (!values.has(k)) values.set(k, value);
    }
  }
  return { values: [...values.values()], ok: 1 };
}
