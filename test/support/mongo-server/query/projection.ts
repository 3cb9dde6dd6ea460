/**
 * Projections. Mingo applies exclusions by deleting fields from its input, so projecting stored
 * documents directly would damage the store: each batch is cloned first, then projected.
 */
import type { Document } from 'bson';
import { find } from 'mingo';
import { cloneDoc, isPlainObject } from '../bson-utils';
import { CommandError, toCommandError } from '../errors';

export type Projector = (docs: Document[]) => Document[];

const identity: Projector = (docs) => docs;

export function makeProjector(projection: unknown, filter: unknown): Projector {
  if (projection === undefined || projection === null) return identity;
  if (!isPlainObject(projection)) throw new CommandError(14, "Expected field 'projection' to be of type object");
  if (Object.keys(projection).length === 0) return identity;
  // Only the positional `field.$` projection needs the filter; re-testing it otherwise is wasted work.
  const positional = Object.keys(projection).some((k) => k.endsWith('.$'));
  const condition = positional && isPlainObject(filter) ? filter : {};
  return (docs) => {
    try {
      return find(docs.map(cloneDoc), condition, projection).all().map(idFirst);
    } catch (err) {
      throw toCommandError(err, 2);
    }
  };
}

/** mingo puts `_id` last on inclusion projections; mongod returns it first. */
function idFirst(doc: Document): Document {
  const keys = Object.keys(doc);
  if (!('_id' in doc) || keys[0] === '_id') return doc;
  const out: Document = { _id: doc._id };
  for (const key of keys) if (key !== '_id') out[key] = doc[key];
  return out;
}
