/**
 * findAndModify (findOneAndUpdate/Replace/Delete): one document, chosen by query + sort,
 * updated, replaced or removed; `value` is the document before (or with `new`, after).
 * Reply `{lastErrorObject: {n, updatedExisting, upserted?}, value, ok}`.
 */
import type { Document } from 'bson';
import { isPlainObject } from '../bson-utils';
import { CommandError } from '../errors';
import { EMPTY_SOURCE, selectDocs } from '../query/filter';
import { makeProjector } from '../query/projection';
import { applyUpdate, buildUpsert } from '../query/update';
import { collectionName, type CommandContext } from './context';

export function findAndModify(ctx: CommandContext): Document {
  const name = collectionName(ctx);
  const body = ctx.body;
  const query: Document = isPlainObject(body.query) ? body.query : {};
  const remove = body.remove === true;
  const upsert = body.upsert === true;
  const returnNew = body.new === true;
  const arrayFilters = Array.isArray(body.arrayFilters) ? (body.arrayFilters as Document[]) : undefined;
  if (remove && body.update !== undefined) throw new CommandError(9, 'Cannot specify both an update and remove=true');
  if (!remove && body.update === undefined) throw new CommandError(9, 'Either an update or remove=true must be specified');
  if (remove && (upsert || returnNew)) throw new CommandError(9, 'Cannot specify both new=true/upsert=true and remove=true');
  const project = makeProjector(body.fields, query);
  const shape = (doc: Document | null): Document | null => (doc ? (project([doc])[0] ?? null) : null);

  const collection = upsert ? ctx.storage.ensure(ctx.db, name).collection : ctx.storage.get(ctx.db, name);
  const [current] = selectDocs(collection ?? EMPTY_SOURCE, query, { sort: body.sort, limit: 1 });

  if (remove) {
    if (current) collection?.remove(current);
    return { lastErrorObject: { n: current ? 1 : 0 }, value: shape(current ?? null), ok: 1 };
  }
  if (current && collection) {
    const outcome = applyUpdate(current, body.update, { arrayFilters, query });
    if (outcome.changed) collection.replace(current, outcome.doc);
    return {
      lastErrorObject: { n: 1, updatedExisting: true },
      value: shape(returnNew ? outcome.doc : current),
      ok: 1,
    };
  }
  if (upsert && collection) {
    const doc = buildUpsert(query, body.update, { arrayFilters });
    collection.insert(doc);
    return {
      lastErrorObject: { n: 1, updatedExisting: false, upserted: doc._id },
      value: shape(returnNew ? doc : null),
      ok: 1,
    };
  }
  return { lastErrorObject: { n: 0, updatedExisting: false }, value: null, ok: 1 };
}
