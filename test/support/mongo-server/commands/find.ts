/** find, getMore and killCursors. Results are computed once; the cursor hands them out in batches. */
import type { Document } from 'bson';
import { EMPTY_SOURCE, selectDocs } from '../query/filter';
import { makeProjector } from '../query/projection';
import { collectionName, nonNegative, requireArray, type CommandContext } from './context';

export function find(ctx: CommandContext): Document {
  const name = collectionName(ctx);
  const body = ctx.body;
  const collection = ctx.storage.get(ctx.db, name);
  const filter: unknown = body.filter ?? {};
  const project = makeProjector(body.projection, filter);
  const docs = selectDocs(collection ?? EMPTY_SOURCE, filter, {
    sort: body.sort,
    skip: nonNegative(ctx, 'skip'),
    limit: nonNegative(ctx, 'limit'),
  });
  const cursor = ctx.cursors.first(`${ctx.db}.${name}`, docs, body, project);
  return { cursor, ok: 1 };
}

export function getMore(ctx: CommandContext): Document {
  return { cursor: ctx.cursors.next(ctx.body.getMore, ctx.body.collection, ctx.db, ctx.body.batchSize), ok: 1 };
}

export function killCursors(ctx: CommandContext): Document {
  collectionName(ctx);
  const { killed, notFound } = ctx.cursors.kill(requireArray(ctx, 'cursors'));
  return { cursorsKilled: killed, cursorsNotFound: notFound, cursorsAlive: [], cursorsUnknown: [], ok: 1 };
}
