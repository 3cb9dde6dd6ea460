/**
 * The app's master keys, and the keys derived from them. A master key never encrypts entries:
 * it wraps per-subject data keys (AES-256-GCM, the data key's id as associated data) and, through
 * HKDF, keys the blind index that lets `?user=` filters find encrypted entries. Each master key
 * has an id (a hash of it) stored with what it wrapped, so after a rotation the right one unwraps.
 */
import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, randomBytes } from 'crypto';

export interface MasterKey {
  /** First 16 hex digits of SHA-256 over a label and the key: names the key without revealing it. */
  id: string;
  wrapKey: Buffer;
  indexKey: Buffer;
}

/** A 32-byte key from a Buffer, 64 hex digits or base64 (standard or url-safe); null when it is none of these. */
export function keyBytes(value: unknown): Buffer | null {
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return value.length === 32 ? Buffer.from(value) : null;
  if (typeof value !== 'string') return null;
  const text = value.trim();
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(text)) {
    const bytes = Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    return bytes.length === 32 ? bytes : null;
  }
  return null;
}

function derive(key: Buffer, label: string): Buffer {
  return Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), `express-audit-log ${label}`, 32));
}

export function masterKeyOf(bytes: Buffer): MasterKey {
  return {
    id: createHash('sha256').update('express-audit-log master key id').update(bytes).digest('hex').slice(0, 16),
    wrapKey: derive(bytes, 'data key wrapping'),
    indexKey: derive(bytes, 'user blind index'),
  };
}

/** The keyed blind index of a user id: equal users give equal values, and nothing without the master key links a value to a user. */
export function blindIndex(master: MasterKey, user: string): string {
  return createHmac('sha256', master.indexKey).update(user, 'utf8').digest('hex').slice(0, 32);
}

/** A data key wrapped by the master key, as base64 of iv | tag | ciphertext; bound to its id. */
export function wrapDataKey(master: MasterKey, keyId: string, dataKey: Buffer): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', master.wrapKey, iv);
  cipher.setAAD(Buffer.from(keyId, 'utf8'));
  const body = Buffer.concat([cipher.update(dataKey), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
}

/** The data key, or null when the wrapped value is not the one this master key made for this id. */
export function unwrapDataKey(master: MasterKey, keyId: string, wrapped: string): Buffer | null {
  try {
    const bytes = Buffer.from(wrapped, 'base64');
    const decipher = createDecipheriv('aes-256-gcm', master.wrapKey, bytes.subarray(0, 12));
    decipher.setAAD(Buffer.from(keyId, 'utf8'));
    decipher.setAuthTag(bytes.subarray(12, 28));
    return Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]);
  } catch {
    return null;
  }
}
