/** createIndexes, listIndexes, dropIndexes and collMod (which changes a TTL index's expiry). */
import type { Document } from 'bson';
import { isPlainObject } from '../bson-utils';
import { CommandError } from '../errors';
import { ENVELOPE_FIELDS, collectionName, requireArray, type CommandContext } from './context';

export function createIndexes(ctx: CommandContext): Document {
  const name = collectionName(ctx);
  const specs = requireArray(ctx, 'indexes');
  if (specs.length === 0) throw new CommandError(2, 'Must specify at least one index to create');
  const { collection, created } = ctx.storage.ensure(ctx.db, name);
  let result;
  try {
    result = collection.indexes.create(specs, collection.entries());
  } catch (err) {
    // All or nothing, including the implicit collection creation.
    if (created) ctx.storage.drop(ctx.db, name);
    throw err;
  }
  if (result.numIndexesBefore === result.numIndexesAfter) {
    return { ...result, note: 'all indexes already exist', ok: 1 };
  }
  return { ...result, createdCollectionAutomatically: created, ok: 1 };
}

export function listIndexes(ctx: CommandContext): Document {
  const name = collectionName(ctx);
  const collection = ctx.storage.get(ctx.db, name);
  if (!collection) throw new CommandError(26, `ns does not exist: ${ctx.db}.${name}`);
  const cursorOpts = isPlainObject(ctx.body.cursor) ? ctx.body.cursor : {};
  return { cursor: ctx.cursors.first(`${ctx.db}.${name}`, collection.indexes.list(), cursorOpts), ok: 1 };
}

export function dropIndexes(ctx: CommandContext): Document {
  const name = collectionName(ctx);
  const collection = ctx.storage.get(ctx.db, name);
  if (!collection) throw new CommandError(26, `ns not found ${ctx.db}.${name}`);
  if (ctx.body.index === undefined) throw new CommandError(40414, "BSON field 'dropIndexes.index' is missing but a required field");
  const nIndexesWas = collection.indexes.drop(ctx.body.index);
  if (ctx.body.index === '*') return { nIndexesWas, msg: 'non-_id indexes dropped for collection', ok: 1 };
  return { nIndexesWas, ok: 1 };
}

/** Validation options are accepted and ignored; index changes are applied. */
const COLLMOD_OPTIONS = new Set(['index', 'validator', 'validationLevel', 'validationAction']);

export function collMod(ctx: CommandContext): Document {
  const name = collectionName(ctx);
  const collection = ctx.storage.get(ctx.db, name);
  if (!collection) throw new CommandError(26, 'ns does not exist');
  for (const field of Object.keys(ctx.body)) {
    if (field === 'collMod' || ENVELOPE_FIELDS.has(field)) continue;
    if (!COLLMOD_OPTIONS.has(field)) throw new CommandError(72, `unknown option to collMod: ${field}`);
  }
  const index: unknown = ctx.body.index;
  if (index === undefined) return { ok: 1 };
  if (!isPlainObject(index)) throw new CommandError(14, "BSON field 'collMod.index' is the wrong type, expected type 'object'");
  return { ...collection.indexes.modify(index), ok: 1 };
}
