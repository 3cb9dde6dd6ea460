/**
 * Projections. Mingo applies exclusions by deleting fields from its input, so projecting stored
 * documents directly would damage the store: each batch is cloned first, then projected.
 */
import type { Document } from 'bson';
import { find } from 'mingo';
import { cloneDoc, isPlainObject } from '../bson-utils';
import { CommandError, toCommandError } from '../errors';
import { MINGO_OPTIONS } from './filter';

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
      const copies = docs.map(cloneDoc);
      const projected = find(copies, condition, projection, MINGO_OPTIONS).all();
      // One result per input: every document given here already matched the filter.
      return projected.map((doc, i) => inSourceOrder(doc, copies[i]));
    } catch (err) {
      throw toCommandError(err, 2);
    }
  };
}

/**
 * mongod keeps the stored field order (`_id` first); mingo orders an inclusion projection by
 * the projection spec and puts `_id` last. Rebuild in source order, nested documents too.
 */
function inSourceOrder(projected: Document, source: unknown): Document {
  if (!isPlainObject(source)) return projected;
  const out: Document = {};
  for (const key of Object.keys(source)) {
    if (!(key in projected)) continue;
    const value: unknown = projected[key];
    out[key] = isPlainObject(value) ? inSourceOrder(value, source[key]) : value;
  }
  // Fields the projection computed rather than copied keep mingo's order, after the rest.
  for (const key of Object.keys(projected)) if (!(key in out)) out[key] = projected[key];
  return out;
}
