/**
 * insert: documents come inline in the body (insertOne, create) or as the kind-1 `documents`
 * sequence (insertMany, bulkWrite); the message parser merges both into `body.documents`.
 * ordered (default) stops at the first error; unordered carries on. Errors are per-document
 * `writeErrors` with `ok: 1`, which the driver turns into MongoServerError / MongoBulkWriteError.
 */
import type { Document } from 'bson';
import { isPlainObject, withIdFirst } from '../bson-utils';
import { CommandError, toCommandError } from '../errors';
import { collectionName, requireArray, writeReply, type CommandContext } from './context';

export function insert(ctx: CommandContext): Document {
  const name = collectionName(ctx);
  const documents = requireArray(ctx, 'documents');
  const ordered = ctx.body.ordered !== false;
  const { collection } = ctx.storage.ensure(ctx.db, name);
  let n = 0;
  const writeErrors: Document[] = [];
  for (const [index, raw] of documents.entries()) {
    try {
      if (!isPlainObject(raw)) throw new CommandError(2, 'document to insert must be an object');
      // The body was freshly decoded from the wire and nothing else references it: store as is.
      const doc = withIdFirst(raw);
      if (Array.isArray(doc._id) || doc._id instanceof RegExp || doc._id === undefined) {
        throw new CommandError(53, `The '_id' value cannot be of type ${Array.isArray(doc._id) ? 'array' : typeof doc._id}`);
      }
      collection.insert(doc);
      n += 1;
    } catch (err) {
      writeErrors.push(toCommandError(err).toWriteError(index));
      if (ordered) break;
    }
  }
  return writeReply({ n }, writeErrors);
}
