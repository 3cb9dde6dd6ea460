/**
 * MongoDB refuses field names that start with '$' or contain '.', and so does the embedded
 * store. Rather than drop such keys (rest-hapi's inserts fail outright), we percent-encode
 * the three characters that matter. '%' itself is encoded first, so every '%' in a stored key
 * starts an escape and decoding is exact: decodeKey(encodeKey(k)) === k for every k.
 */

const NEEDS_ENCODING = /[%.]|^\$/;

export function encodeKey(key: string): string {
  if (!NEEDS_ENCODING.test(key)) return key;
  let out = key.replace(/%/g, '%25').replace(/\./g, '%2E');
  if (out.startsWith('$')) out = `%24${out.slice(1)}`;
  return out;
}

export function decodeKey(key: string): string {
  if (!key.includes('%')) return key;
  return key.replace(/%(25|2E|24)/g, (_, code: string) => (code === '25' ? '%' : code === '2E' ? '.' : '$'));
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
