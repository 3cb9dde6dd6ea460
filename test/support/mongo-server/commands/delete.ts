/** delete: `deletes: [{q, limit}]`, limit 0 = every match, 1 = the first; reply `{n}`. */
import type { Document } from 'bson';
import { isPlainObject } from '../bson-utils';
import { CommandError, toCommandError } from '../errors';
import { EMPTY_SOURCE, selectDocs } from '../query/filter';
import { collectionName, requireArray, writeReply, type CommandContext } from './context';

export function deleteCommand(ctx: CommandContext): Document {
  const name = collectionName(ctx);
  const statements = requireArray(ctx, 'deletes');
  const ordered = ctx.body.ordered !== false;
  const collection = ctx.storage.get(ctx.db, name);
  let n = 0;
  const writeErrors: Document[] = [];
  for (const [index, stmt] of statements.entries()) {
    try {
      if (!isPlainObject(stmt)) throw new CommandError(14, 'delete statement must be an object');
      const limit: unknown = stmt.limit ?? 0;
      if (limit !== 0 && limit !== 1) throw new CommandError(9, `The limit field in delete objects must be 0 or 1. Got ${String(limit)}`);
      // Compile the filter even without a collection, so a bad filter is reported either way.
      const matches = selectDocs(collection ?? EMPTY_SOURCE, stmt.q ?? {}, { limit, sort: stmt.sort });
      for (const doc of matches) if (collection?.remove(doc)) n += 1;
    } catch (err) {
      writeErrors.push(toCommandError(err).toWriteError(index));
      if (ordered) break;
    }
  }
  return writeReply({ n }, writeErrors);
}
