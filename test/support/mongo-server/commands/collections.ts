/** create, drop, dropDatabase, listCollections, listDatabases. */
import type { Document } from 'bson';
import { Query } from 'mingo';
import { isPlainObject } from '../bson-utils';
import { toCommandError } from '../errors';
import { compileFilter } from '../query/filter';
import { ID_INDEX } from '../storage/index-spec';
import { ENVELOPE_FIELDS, collectionName, type CommandContext } from './context';

export function create(ctx: CommandContext): Document {
  const name = collectionName(ctx);
  const options: Document = {};
  for (const [field, value] of Object.entries(ctx.body)) {
    if (field !== 'create' && !ENVELOPE_FIELDS.has(field)) options[field] = value;
  }
  // An existing collection is NamespaceExists (48): mongoose's init() ignores exactly that code.
  ctx.storage.create(ctx.db, name, options);
  return { ok: 1 };
}

export function drop(ctx: CommandContext): Document {
  const name = collectionName(ctx);
  const dropped = ctx.storage.drop(ctx.db, name);
  // MongoDB 7 answers ok for a collection that does not exist.
  if (!dropped) return { ok: 1 };
  return { nIndexesWas: dropped.indexes.size, ns: dropped.ns, ok: 1 };
}

export function dropDatabase(ctx: CommandContext): Document {
  ctx.storage.dropDatabase(ctx.db);
  return { ok: 1 };
}

export function listCollections(ctx: CommandContext): Document {
  const nameOnly = ctx.body.nameOnly === true;
  const infos = ctx.storage.collections(ctx.db).map(
    (c): Document =>
      nameOnly
        ? { name: c.name, type: 'collection' }
        : {
            name: c.name,
            type: 'collection',
            options: c.options,
            info: { readOnly: false, uuid: c.uuid },
            idIndex: { ...ID_INDEX },
          },
  );
  const cursorOpts = isPlainObject(ctx.body.cursor) ? ctx.body.cursor : {};
  return { cursor: ctx.cursors.first(`${ctx.db}.$cmd.listCollections`, filterInfos(ctx.body.filter, infos), cursorOpts), ok: 1 };
}

export function listDatabases(ctx: CommandContext): Document {
  const databases = ctx.storage.databases().map((name): Document => {
    const docs = ctx.storage.collections(name).reduce((n, c) => n + c.count, 0);
    return ctx.body.nameOnly === true ? { name } : { name, sizeOnDisk: docs * 1024, empty: docs === 0 };
  });
  const shown = filterInfos(ctx.body.filter, databases);
  if (ctx.body.nameOnly === true) return { databases: shown, ok: 1 };
  const totalSize = shown.reduce((n, d) => n + (d.sizeOnDisk as number), 0);
  return { databases: shown, totalSize, totalSizeMb: Math.floor(totalSize / 1048576), ok: 1 };
}

function filterInfos(filter: unknown, infos: Document[]): Document[] {
  if (filter === undefined || filter === null) return infos;
  const query: Query = compileFilter(filter);
  try {
    return infos.filter((info) => query.test(info));
  } catch (err) {
    throw toCommandError(err, 2);
  }
}
