/**
 * MongoDB refuses field names that start with '$' or contain '.', and so does the embedded
 * store. Rather than drop such keys (rest-hapi's inserts fail outright), we percent-encode
 * the characters that matter. BSON cannot hold a NUL in a field name at all (the driver
 * throws, and the entry could never be written), and the embedded store turns a
 * `__proto__` key into a prototype (the key is lost), so those are encoded too. '%' itself
 * is encoded first, so every '%' in a stored key starts an escape and decoding is exact:
 * decodeKey(encodeKey(k)) === k for every k.
 */

const NEEDS_ENCODING = /[%.\u0000]|^\$|^__proto__$/;
const ESCAPES: Record<string, string> = { '25': '%', '2E': '.', '24': '$', '00': '\u0000', '5F': '_' };

export function encodeKey(key: string): string {
  if (!NEEDS_ENCODING.test(key)) return key;
  let out = key
    .replace(/%/g, '%25')
    .replace(/\./g, '%2E')
    .replace(/\u0000/g, '%00');
  if (out.startsWith('$')) out = `%24${out.slice(1)}`;
  if (out === '__proto__') out = '%5F_proto__';
  return out;
}

export function decodeKey(key: string): string {
  if (!key.includes('%')) return key;
  return key.replace(/%(25|2E|24|00|5F)/g, (_, code: string) => ESCAPES[code]!);
}

/** Decodes every key of a stored JSON value, at any depth, for the query routes' answers. */
export function decodeKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(decodeKeys);
  if (value === null || typeof value !== 'object' || value instanceof Date) return value;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    Object.defineProperty(out, decodeKey(key), { value: decodeKeys(inner), enumerable: true, writable: true, configurable: true });
  }
  return out;
}
