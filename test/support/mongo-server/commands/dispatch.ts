/**
 * Command name → handler, and the one place that turns a thrown error into an error reply.
 * No exception escapes: whatever a client sends, it gets `{ok: 0, ...}` back.
 */
import type { Document } from 'bson';
import { CommandError, toCommandError } from '../errors';
import { aggregate, count, distinct } from './aggregate';
import { create, drop, dropDatabase, listCollections, listDatabases } from './collections';
import type { CommandContext, CommandHandler } from './context';
import { deleteCommand } from './delete';
import { find, getMore, killCursors } from './find';
import { findAndModify } from './find-and-modify';
import { handshakeCommands } from './handshake';
import { collMod, createIndexes, dropIndexes, listIndexes } from './indexes';
import { insert } from './insert';
import { update } from './update';

const HANDLERS: ReadonlyMap<string, CommandHandler> = new Map<string, CommandHandler>([
  ...Object.entries(handshakeCommands),
  ['insert', insert],
  ['update', update],
  ['delete', deleteCommand],
  ['findAndModify', findAndModify],
  ['findandmodify', findAndModify],
  ['find', find],
  ['getMore', getMore],
  ['killCursors', killCursors],
  ['aggregate', aggregate],
  ['count', count],
  ['distinct', distinct],
  ['create', create],
  ['drop', drop],
  ['dropDatabase', dropDatabase],
  ['listCollections', listCollections],
  ['listDatabases', listDatabases],
  ['createIndexes', createIndexes],
  ['listIndexes', listIndexes],
  ['dropIndexes', dropIndexes],
  ['deleteIndexes', dropIndexes],
  ['collMod', collMod],
]);

/** The command's name is its first field, as mongod reads it. */
export function commandName(body: Document): string {
  return Object.keys(body)[0] ?? '';
}

export function runCommand(ctx: CommandContext): Document {
  const handler = HANDLERS.get(ctx.name);
  if (!handler) return new CommandError(59, `no such command: '${ctx.name}'`).toReply();
  if (ctx.db === '') return new CommandError(40571, 'OP_MSG requests require a $db argument').toReply();
  try {
    return handler(ctx);
  } catch (err) {
    return toCommandError(err, 1).toReply();
  }
}
