/**
 * The canonical form an entry's hash is computed over, defined once for the writer, the verify
 * route and the offline command. It is a function of the entry's JSON as the query routes and
 * the NDJSON export show it, so every store's round trip gives the same bytes:
 *
 * - the entry's own fields except `hash`, `expireAt` and `holds` (mutable governance metadata); `payload`, `params` and `result` with their keys
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
 * - arrays keep their order; an undefined element is null;
 * - an entry with a `sealed` value (the `encryption` option) is hashed as stored: the fields it
 *   names are stored null and left out, whatever a reader's view shows in them (the opened
 *   values, or null and `erased: true` once the subject's key is erased), so the hash is over
 *   the ciphertext and an erasure changes nothing that is hashed.
 * The result is compact JSON; the hash is the hex SHA-256 of its UTF-8 bytes.
 */
import { createHash, hash as oneShotHash } from 'crypto';
import { decodeKey } from '../capture/keys';
import { FIELD_NAMES } from '../entry';
import { sealedFieldsOf } from '../encryption/sealed-format';

/**
 * Left out of the hash: `hash` itself, and the governance metadata a hold or a retention change
 * rewrites on stored entries (expiry, hold marks): hashing them would make verify fail on a hold.
 */
const UNHASHED = new Set(['hash', 'expireAt', 'holds']);
/** The fields whose keys are stored encoded and shown decoded. */
const DECODED_FIELDS = new Set(['payload', 'params', 'result']);
/** Characters JSON.stringify escapes in a string; most strings have none and are written as they are. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters JSON escapes are what it looks for
const NEEDS_ESCAPE = /["\\\u0000-\u001f]/;

function wellFormed(value: string): string {
  return value.isWellFormed() ? value : value.toWellFormed();
}

function quote(value: string): string {
  return NEEDS_ESCAPE.test(value) ? JSON.stringify(value) : `"${value}"`;
}

/**
 * How an object's members are read: nested objects decode their keys or not (`decode`, inherited);
 * the entry itself (`entry` set) leaves out `hash`, and decodes the keys inside payload, params
 * and result unless it is presented (already decoded).
 */
interface Level {
  decode: boolean;
  entry: { presented: boolean } | null;
}

function childDecode(level: Level, key: string): boolean {
  return level.entry ? !level.entry.presented && DECODED_FIELDS.has(key) : level.decode;
}

/** Canonical members of an object whose keys change when read (decoded, made well-formed), so two may become one: the later value wins. */
function changedKeys(source: Record<string, unknown>, keys: string[], level: Level): string {
  const members: Array<[string, string | undefined]> = keys.map((key) => [
    wellFormed(level.decode ? decodeKey(key) : key),
    write(source[key], childDecode(level, key)),
  ]);
  members.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)); // stable: equal keys keep their order
  let out = '{';
  for (let i = 0; i < members.length; i++) {
    const [key, inner] = members[i]!;
    if (inner === undefined || members[i + 1]?.[0] === key) continue;
    out += `${out.length === 1 ? '' : ','}${quote(key)}:${inner}`;
  }
  return `${out}}`;
}

/** An object's canonical text: keys sorted (UTF-16 code units, as Array.prototype.sort compares strings), null members left out. */
function object(source: Record<string, unknown>, level: Level): string {
  let keys = Object.keys(source);
  if (level.entry) keys = keys.filter((key) => !UNHASHED.has(key));
  for (const key of keys) {
    if ((level.decode && key.includes('%')) || !key.isWellFormed()) return changedKeys(source, keys, level);
  }
  keys.sort();
  let out = '{';
  for (const key of keys) {
    const inner = write(source[key], childDecode(level, key));
    if (inner !== undefined) out += `${out.length === 1 ? '' : ','}${quote(key)}:${inner}`;
  }
  return `${out}}`;
}

const DECODING: Level = { decode: true, entry: null };
const PLAIN: Level = { decode: false, entry: null };
const STORED_ENTRY: Level = { decode: false, entry: { presented: false } };
const PRESENTED_ENTRY: Level = { decode: false, entry: { presented: true } };

/**
 * The entry's own fields in canonical order, each with its `"name":` written out: an entry with no
 * other field (the usual case) needs no sort. Same result as the general path, only faster (it is
 * on the write path of every entry).
 */
const SORTED_FIELDS = FIELD_NAMES.filter((name) => !UNHASHED.has(name))
  .sort()
  .map((name) => ({ name, prefix: `"${name}":`, decode: DECODED_FIELDS.has(name) }));
const KNOWN = new Set<string>(FIELD_NAMES);
const hasOwn = Object.prototype.hasOwnProperty;

function knownFieldsOnly(entry: Record<string, unknown>): boolean {
  for (const key in entry) if (hasOwn.call(entry, key) && !KNOWN.has(key)) return false;
  return true;
}

function entryOfKnownFields(entry: Record<string, unknown>, presented: boolean): string {
  let out = '{';
  for (const field of SORTED_FIELDS) {
    if (!hasOwn.call(entry, field.name)) continue;
    const inner = write(entry[field.name], field.decode && !presented);
    if (inner !== undefined) out += out.length === 1 ? field.prefix + inner : `,${field.prefix}${inner}`;
  }
  return `${out}}`;
}

/** The canonical text of one value, or undefined for a value JSON leaves out (null, undefined, a function). */
function write(value: unknown, decode: boolean): string | undefined {
  if (value === null || value === undefined) return undefined;
  switch (typeof value) {
    case 'string':
      return quote(wellFormed(value));
    // Finite numbers: what JSON.stringify writes is the number's string (-0 included: "0").
    case 'number':
      return Number.isFinite(value) ? String(value) : undefined;
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      break;
    default:
      return undefined; // functions, symbols, bigints: JSON has none of them
  }
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += `${i === 0 ? '' : ','}${write(value[i], decode) ?? 'null'}`;
    return `${out}]`;
  }
  // An ISO date needs no escaping.
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : `"${value.toISOString()}"`;
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') return write(toJSON.call(value), decode);
  return object(value as Record<string, unknown>, decode ? DECODING : PLAIN);
}

/**
 * The canonical text of an entry as a store holds it (keys of payload, params and result
 * encoded). `presented: true` takes an entry as the routes and the export show it (decoded).
 */
export function canonicalEntry(entry: object, presented = false): string {
  let source = entry as Record<string, unknown>;
  if (source.sealed !== undefined && source.sealed !== null) source = asStored(source);
  if (knownFieldsOnly(source)) return entryOfKnownFields(source, presented);
  return object(source, presented ? PRESENTED_ENTRY : STORED_ENTRY);
}

/** A sealed entry without what only a reader's view puts in it: the fields `sealed` names, and the erasure marker. */
function asStored(source: Record<string, unknown>): Record<string, unknown> {
  const fields = sealedFieldsOf(source.sealed);
  if (!fields) return source;
  const stored = { ...source };
  for (const field of fields) delete stored[field];
  delete stored.erased;
  return stored;
}

/** The canonical text of any JSON value (checkpoints, without their signature). */
export function canonicalValue(value: unknown): string {
  return write(value, false) ?? 'null';
}

export function sha256(textToHash: string): string {
  return typeof oneShotHash === 'function' ? oneShotHash('sha256', textToHash, 'hex') : createHash('sha256').update(textToHash, 'utf8').digest('hex');
}

/** The hash an entry carries: SHA-256 of its canonical form, in hex. */
export function hashEntry(entry: object, presented = false): string {
  return sha256(canonicalEntry(entry, presented));
}
