/**
 * update: `updates: [{q, u, upsert, multi, arrayFilters}]`. Reply `{n, nModified, upserted}`;
 * n counts matched documents plus upserts, nModified only documents that actually changed.
 */
import type { Document } from 'bson';
import { isPlainObject } from '../bson-utils';
import { CommandError, toCommandError } from '../errors';
import { EMPTY_SOURCE, selectDocs } from '../query/filter';
import { applyUpdate, buildUpsert, updateKind } from '../query/update';
import type { Collection } from '../storage/collection';
import { collectionName, requireArray, writeReply, type CommandContext } from './context';

interface StatementResult {
  n: number;
  nModified: number;
  upsertedId?: unknown;
}

export function update(ctx: CommandContext): Document {
  const name = collectionName(ctx);
  const statements = requireArray(ctx, 'updates');
  const ordered = ctx.body.ordered !== false;
  let n = 0;
  let nModified = 0;
  const upserted: Document[] = [];
  const writeErrors: Document[] = [];
  for (const [index, stmt] of statements.entries()) {
    try {
      if (!isPlainObject(stmt)) throw new CommandError(14, 'update statement must be an object');
      const result = runStatement(ctx, name, stmt);
      n += result.n;
      nModified += result.nModified;
      if ('upsertedId' in result) upserted.push({ index, _id: result.upsertedId });
    } catch (err) {
      writeErrors.push(toCommandError(err).toWriteError(index));
      if (ordered) break;
    }
  }
  const fields: Document = { n, nModified };
  if (upserted.length > 0) fields.upserted = upserted;
  return writeReply(fields, writeErrors);
}

function runStatement(ctx: CommandContext, name: string, stmt: Document): StatementResult {
  const query: Document = isPlainObject(stmt.q) ? stmt.q : {};
  const multi = stmt.multi === true;
  const upsert = stmt.upsert === true;
  const arrayFilters = Array.isArray(stmt.arrayFilters) ? (stmt.arrayFilters as Document[]) : undefined;
  if (multi && updateKind(stmt.u) === 'replacement') {
    throw new CommandError(9, 'multi update is not supported for replacement-style update');
  }
  const collection: Collection | undefined = upsert ? ctx.storage.ensure(ctx.db, name).collection : ctx.storage.get(ctx.db, name);
  const matches = selectDocs(collection ?? EMPTY_SOURCE, query, { limit: multi ? 0 : 1, sort: stmt.sort });
  if (matches.length === 0) {
    if (!upsert || !collection) return { n: 0, nModified: 0 };
    const doc = buildUpsert(query, stmt.u, { arrayFilters });
    collection.insert(doc);
    return { n: 1, nModified: 0, upsertedId: doc._id };
  }
  let nModified = 0;
  for (const current of matches) {
    const outcome = applyUpdate(current, stmt.u, { arrayFilters, query });
    if (!outcome.changed || !collection) continue;
    collection.replace(current, outcome.doc);
    nModified += 1;
  }
  return { n: matches.length, nModified };
}
