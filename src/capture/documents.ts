/**
 * Finds the ids of the documents a request touched, the way rest-hapi does: route ids,
 * the `_id`/`id` of created results (bulk arrays too), and payload id lists of the forms
 * `[id, ...]`, `[{ _id }, ...]`, `[{ id }, ...]` and `[{ childId }, ...]`. Ids are kept as
 * strings, never cast, so UUIDs, numbers and 'auth0|123' all work.
 */

const MAX_IDS = 1000;

/** A scalar id as a string, or null when the value is not an id. */
export function idString(value: unknown): string | null {
  if (typeof value === 'string') return value.length > 0 && value.length <= 256 ? value : null;
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : null;
  if (typeof value === 'bigint') return value.toString();
  if (value !== null && typeof value === 'object') {
    const tagged = value as { _bsontype?: unknown; toHexString?: () => string };
    if (tagged._bsontype === 'ObjectId' && typeof tagged.toHexString === 'function') return tagged.toHexString();
  }
  return null;
}

/** The id of one object: `_id`, else `id`, else `childId` (association payloads). */
function objectId(value: unknown, keys: readonly string[]): string | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return idString(value);
  for (const key of keys) {
    const id = idString((value as Record<string, unknown>)[key]);
    if (id !== null) return id;
  }
  return null;
}

/** Ids of a response body: one object or an array of them. */
export function resultIds(result: unknown): string[] {
  if (result === null || typeof result !== 'object') return [];
  const items = Array.isArray(result) ? result : [result];
  const ids: string[] = [];
  for (const item of items.slice(0, MAX_IDS)) {
    if (item === null || typeof item !== 'object') continue;
    const id = objectId(item, ['_id', 'id']);
    if (id !== null) ids.push(id);
  }
  return ids;
}

/** Ids listed in a request body: an array of ids or of objects carrying one. */
export function payloadIds(payload: unknown, keys: readonly string[] = ['_id', 'id', 'childId']): string[] {
  if (!Array.isArray(payload)) return [];
  const ids: string[] = [];
  for (const item of payload.slice(0, MAX_IDS)) {
    const id = objectId(item, keys);
    if (id !== null) ids.push(id);
  }
  return ids;
}
