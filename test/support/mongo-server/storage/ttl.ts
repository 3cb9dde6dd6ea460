/**
 * The TTL pass mongod's TTLMonitor makes: for each single-field index with expireAfterSeconds,
 * delete documents whose indexed value is a date older than now - expireAfterSeconds. For an
 * array the earliest date counts; documents without a date there never expire.
 */
import type { Document } from 'bson';
import { valuesAtPath } from '../bson-utils';
import type { Storage } from './storage';

export function runTtlPass(storage: Storage, now = Date.now()): number {
  let deleted = 0;
  for (const collection of [...storage.allCollections()]) {
    for (const { field, expireAfterSeconds } of collection.indexes.ttlIndexes()) {
      const cutoff = now - expireAfterSeconds * 1000;
      const expired = collection.all().filter((doc) => isExpired(doc, field, cutoff));
      for (const doc of expired) if (collection.remove(doc)) deleted += 1;
    }
  }
  return deleted;
}

function isExpired(doc: Document, field: string, cutoff: number): boolean {
  let earliest = Infinity;
  for (const value of valuesAtPath(doc, field)) {
    if (value instanceof Date && value.getTime() < earliest) earliest = value.getTime();
  }
  return earliest < cutoff;
}
