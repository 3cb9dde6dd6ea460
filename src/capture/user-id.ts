/** The user field's id: like a document id, with room for the long `sub` claims some identity providers issue. */
import { createHash } from 'crypto';
import { idString } from './documents';

/**
 * Longest user id stored. Larger than the 256 of document ids: some identity providers put
 * long values in `sub` (SAML name ids, encoded emails), and dropping them to null would hide who acted.
 */
export const MAX_USER_LENGTH = 1024;

/**
 * A user id as stored: numbers, ObjectIds and strings up to MAX_USER_LENGTH as they are.
 * A longer string keeps its first characters, then `…[sha256:<16 hex>]` of the whole value
 * (1024 characters in all): the mark shows it was cut, and two long ids that share a start stay distinct.
 */
export function userString(value: unknown): string | null {
  if (typeof value !== 'string' || value.length <= 256) return idString(value);
  if (value.length <= MAX_USER_LENGTH) return value;
  const mark = `…[sha256:${createHash('sha256').update(value).digest('hex').slice(0, 16)}]`;
  return value.slice(0, MAX_USER_LENGTH - mark.length) + mark;
}
