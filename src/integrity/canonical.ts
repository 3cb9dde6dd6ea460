/**
 * The canonical form an entry's hash is computed over, defined once for the writer, the verify
 * route and the offline command. It is a function of the entry's JSON as the query routes and
 * the NDJSON export show it, so every store's round trip gives the same bytes:
 *
 * - the entry's own fields except `hash`; `payload`, `params` and `result` with their keys
 *   decoded (stores hold `$` and `.` percent-encoded, see capture/keys; answers and exports decode);
 * - object keys sorted by UTF-16 code units (stores keep insertion order, but not all the same one);
 * - a member whose value is null or undefined is left out, at any depth (MongoDB turns an
 *   undefined member into null, JSON drops it), so null and absent are the same;
 * - a Date is its ISO string with milliseconds (`toJSON`), as the export writes it; any value with
 *   `toJSON` (an ObjectId) is what that returns;
 * - numbers as ECMAScript's JSON.stringify writes them (MongoDB returns the double 1.0 as 1, the
 *   same number); NaN and ±Infinity are null;
 * - strings and keys with lone surrogates replaced by U+FFFD, as UTF-8 (and so BSON) stores them;
 *   two keys that become the same keep the later value, as a BSON or JSON reader does;
 * - arrays keep their order; an undefined element is null.
 * The result is compact JSON; the hash is the hex SHA-256 of its UTF-8 bytes.
 */
import { createHash } from 'crypto';
import { decodeKey } from '../capture/keys';

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const SURROGATE = /[\uD800-\uDFFF]/;
/** The fields whose keys are stored encoded and shown decoded. */
const DECODED_FIELDS = new Set(['payload', 'params', 'result']);

function wellFormed(value: string): string {
  return SURROGATE.test(value) ? value.replace(LONE_SURROGATE, '\uFFFD') : value;
}

/** An object's members, [key, canonical value or undefined], in insertion order: sorted, later duplicates winning, null ones left out. */
function object(members: Array<[string, string | undefined]>): string {
  members.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)); // stable: equal keys keep their order
  let out = '{';
  for (let i = 0; i < members.length; i++) {
    const [key, inner] = members[i]!;
    if (inner === undefined || members[i + 1]?.[0] === key) continue;
    out += `${out.length === 1 ? '' : ','}${JSON.stringify(key)}:${inner}`;
  }
  return `${out}}`;
}

/** The canonical text of one value; `decode` maps each object key (identity outside the decoded fields). */
function write(value: unknown, decode: boolean): string | undefined {
  if (value === null || value === undefined) return undefined;
  switch (typeof value) {
    case 'string': return JSON.stringify(wellFormed(value));
    case 'number': return Number.isFinite(value) ? JSON.stringify(value) : undefined;
    case 'boolean': return value ? 'true' : 'false';
    case 'object': break;
    default: return undefined; // functions, symbols, bigints: JSON has none of them
  }
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += `${i === 0 ? '' : ','}${write(value[i], decode) ?? 'null'}`;
    return `${out}]`;
  }
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') return write(toJSON.call(value), decode);
  const source = value as Record<string, unknown>;
  const members: Array<[string, string | undefined]> = [];
  for (const key of Object.keys(source)) members.push([wellFormed(decode ? decodeKey(key) : key), write(source[key], decode)]);
  return object(members);
}

/**
 * The canonical text of an entry as a store holds it (keys of payload, params and result
 * encoded). `presented: true` takes an entry as the routes and the export show it (decoded).
 */
export function canonicalEntry(entry: object, presented = false): string {
  const source = entry as Record<string, unknown>;
  const members: Array<[string, string | undefined]> = [];
  for (const key of Object.keys(source)) {
    if (key !== 'hash') members.push([wellFormed(key), write(source[key], !presented && DECODED_FIELDS.has(key))]);
  }
  return object(members);
}

/** The canonical text of any JSON value (checkpoints, without their signature). */
export function canonicalValue(value: unknown): string {
  return write(value, false) ?? 'null';
}

export function sha256(textToHash: string): string {
  return createHash('sha256').update(textToHash, 'utf8').digest('hex');
}

/** The hash an entry carries: SHA-256 of its canonical form, in hex. */
export function hashEntry(entry: object, presented = false): string {
  return sha256(canonicalEntry(entry, presented));
}
