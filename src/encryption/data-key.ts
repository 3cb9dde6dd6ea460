/**
 * A subject's data key as stores keep it: wrapped by a master key, next to the blind index of
 * the subject (the user id) so an erasure finds every key of a user and deletes them. Stores keep
 * these apart from the entries (a companion collection or table), untouched by the entries' TTL.
 */
export interface DataKeyRecord {
  /** 24 hex digits, random: named in each entry's `sealed` value. */
  _id: string;
  /** The blind index of the user the key encrypts for (see master-keys.ts). */
  subject: string;
  /** The data key wrapped by the master key `masterKeyId`: base64 of iv | tag | ciphertext. */
  wrapped: string;
  masterKeyId: string;
  /** The user id sealed with the data key itself (base64 of iv | tag | ciphertext): lets a key rotation re-index the key under the new master key, and goes with the key on erasure. */
  owner: string;
  createdAt: Date;
}

/** Either the keys with these ids, or a page of all keys in `_id` order after `after` (exclusive). */
export type DataKeyQuery = { ids: readonly string[] } | { after: string | null; limit: number };

/** A data key record read back from JSON: dates as Dates. */
export function reviveDataKey(value: Record<string, unknown>): DataKeyRecord {
  return { ...(value as unknown as DataKeyRecord), createdAt: new Date(value.createdAt as string) };
}
