/**
 * The mongoose schema of the `auditLog` collection, derived from FIELDS so it cannot drift
 * from the entry. `user` and `documents` are strings: any id scheme works (rest-hapi's
 * ObjectId `user` silently drops entries for UUIDs and 'auth0|123').
 */
import type { Schema as SchemaType, SchemaDefinition } from 'mongoose';
import { FIELDS, FIELD_NAMES, type FieldKind } from '../entry';

type Mongoose = typeof import('mongoose');

/** The indexes the list route's common filters and sorts use (the TTL index on expireAt and the plain one on date are managed apart). */
export const QUERY_INDEXES: ReadonlyArray<{ key: Record<string, 1 | -1>; name: string }> = [
  { key: { user: 1, date: -1 }, name: 'user_1_date_-1' },
  { key: { action: 1, date: -1 }, name: 'action_1_date_-1' },
  { key: { collectionName: 1, date: -1 }, name: 'collectionName_1_date_-1' },
  { key: { statusCode: 1, date: -1 }, name: 'statusCode_1_date_-1' },
  { key: { documents: 1 }, name: 'documents_1' },
  { key: { requestId: 1 }, name: 'requestId_1' },
  // Releasing a hold finds the entries it marked.
  { key: { holds: 1 }, name: 'holds_1' },
];

/** @internal The store's own; stripped from the published types, which must not name mongoose's. */
export function buildSchema(mongoose: Mongoose, collection: string): SchemaType {
  const { Schema } = mongoose;
  const types: Record<FieldKind, unknown> = {
    id: Schema.Types.ObjectId,
    date: Date,
    string: String,
    number: Number,
    boolean: Boolean,
    strings: { type: [String], default: undefined },
    json: Schema.Types.Mixed,
  };
  const definition: SchemaDefinition = {};
  for (const field of FIELD_NAMES) {
    const kind = FIELDS[field].kind;
    definition[field] = (kind === 'strings' ? types.strings : { type: types[kind] }) as SchemaDefinition[string];
  }
  return new Schema(definition, {
    collection,
    versionKey: false,
    // Indexes are reconciled by the store itself: mongoose's autoIndex cannot change a TTL.
    autoIndex: false,
    autoCreate: false,
    minimize: false,
    strict: true,
  });
}
