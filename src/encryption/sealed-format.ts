/**
 * How an encrypted entry carries its personal fields: one `sealed` string,
 * `1:<data key id>:<field,field,…>:<base64 of iv | tag | ciphertext>`, with the fields it names
 * stored as null. Parsing needs no key, so the integrity hash (src/integrity/canonical.ts) can
 * tell which members of an entry are only the readable view of `sealed` without decrypting it.
 */

export const SEALED_VERSION = '1';

export interface SealedParts {
  keyId: string;
  fields: string[];
  /** iv (12 bytes) | tag (16 bytes) | ciphertext. */
  box: Buffer;
}

export function formatSealed(keyId: string, fields: readonly string[], box: Buffer): string {
  return `${SEALED_VERSION}:${keyId}:${fields.join(',')}:${box.toString('base64')}`;
}

/** The parts of a `sealed` value, or null when it is not one this version wrote. */
export function parseSealed(sealed: unknown): SealedParts | null {
  if (typeof sealed !== 'string') return null;
  const parts = sealed.split(':');
  if (parts.length !== 4 || parts[0] !== SEALED_VERSION || !parts[1]) return null;
  return { keyId: parts[1], fields: parts[2] ? parts[2].split(',') : [], box: Buffer.from(parts[3] ?? '', 'base64') };
}

/** The field names a `sealed` value covers (no decoding of the ciphertext), or null. */
export function sealedFieldsOf(sealed: unknown): string[] | null {
  if (typeof sealed !== 'string') return null;
  const parts = sealed.split(':');
  return parts.length === 4 && parts[0] === SEALED_VERSION ? (parts[2] ? parts[2].split(',') : []) : null;
}
