/**
 * Index specifications: validation, and the equality rules mongod uses to decide whether a
 * requested index already exists, conflicts, or is new. Pure functions, no storage.
 */
import type { Document } from 'bson';
import { formatValue, isPlainObject, keyOf } from '../bson-utils';
import { CommandError } from '../errors';

/** What listIndexes returns: `{v: 2, key, name, ...options}`. */
export interface IndexSpec extends Document {
  v: 2;
  key: Document;
  name: string;
}

export const ID_INDEX: Readonly<IndexSpec> = Object.freeze({ v: 2, key: { _id: 1 }, name: '_id_' });

const KEY_PLUGINS = new Set(['text', '2dsphere', '2d', 'hashed', 'geoHaystack']);
/** Fields that are not options (or that mongod ignores when comparing specs). */
const NOT_OPTIONS = new Set(['v', 'key', 'name', 'ns', 'background']);
/** Options that let two indexes on the same key coexist under different names. */
const DISTINGUISHING = ['collation', 'partialFilterExpression'];
/** Boolean options where `false` means the same as absent. */
const FLAGS = new Set(['unique', 'sparse', 'hidden']);
const MAX_TTL_SECONDS = 2147483647;

/** Validates one element of createIndexes' `indexes` and returns it in listIndexes form. */
export function normalizeSpec(raw: unknown): IndexSpec {
  if (!isPlainObject(raw)) throw new CommandError(14, "The field 'indexes' must be an array of objects");
  const where = `Error in specification ${formatValue(raw)} :: caused by :: `;
  const key: unknown = raw.key;
  if (!isPlainObject(key) || Object.keys(key).length === 0) {
    throw new CommandError(9, `${where}The 'key' field is a required property of an index specification`);
  }
  for (const [field, dir] of Object.entries(key)) {
    const ok = (typeof dir === 'number' && dir !== 0 && Number.isFinite(dir)) || (typeof dir === 'string' && KEY_PLUGINS.has(dir));
    if (!ok)
      throw new CommandError(67, `${where}Values in the index key pattern must be non-zero numbers or a known index type; got ${field}: ${formatValue(dir)}`);
  }
  if (typeof raw.name !== 'string' || raw.name === '') {
    throw new CommandError(9, `${where}The 'name' field is a required property of an index specification`);
  }
  if ('expireAfterSeconds' in raw) checkTtl(raw.expireAfterSeconds, where);
  const spec: IndexSpec = { v: 2, key, name: raw.name };
  for (const [field, value] of Object.entries(raw)) if (!NOT_OPTIONS.has(field)) spec[field] = value;
  return spec;
}

export function checkTtl(value: unknown, where = ''): asserts value is number {
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw new CommandError(67, `${where}TTL index 'expireAfterSeconds' option must be numeric, but received ${formatValue(value)}`);
  }
  if (value < 0 || value > MAX_TTL_SECONDS) {
    throw new CommandError(67, `${where}TTL index 'expireAfterSeconds' option must be within an acceptable range, try a lower number`);
  }
}

export function sameKey(a: IndexSpec, b: IndexSpec): boolean {
  return keyOf(a.key) === keyOf(b.key);
}

export function sameOptions(a: IndexSpec, b: IndexSpec): boolean {
  return keyOf(comparableOptions(a)) === keyOf(comparableOptions(b));
}

/** Same key and same collation/partial filter: mongod treats these as the same index. */
export function equivalent(a: IndexSpec, b: IndexSpec): boolean {
  return sameKey(a, b) && DISTINGUISHING.every((f) => keyOf(a[f] ?? null) === keyOf(b[f] ?? null));
}

function comparableOptions(spec: IndexSpec): Document {
  const out: Document = {};
  for (const field of Object.keys(spec).sort()) {
    if (NOT_OPTIONS.has(field)) continue;
    const value: unknown = spec[field];
    if (FLAGS.has(field)) {
      if (value) out[field] = true;
    } else {
      out[field] = value;
    }
  }
  return out;
}

/** The one date field a TTL index expires on, or null (compound, _id and non-TTL indexes). */
export function ttlField(spec: IndexSpec): string | null {
  if (typeof spec.expireAfterSeconds !== 'number') return null;
  const fields = Object.keys(spec.key);
  const [field] = fields;
  if (fields.length !== 1 || field === undefined || field === '_id' || typeof spec.key[field] !== 'number') return null;
  return field;
}

/** Looks up an index by name (string) or key pattern (object), as dropIndexes and collMod accept. */
export function findSpec(specs: readonly IndexSpec[], target: unknown): IndexSpec | undefined {
  if (typeof target === 'string') return specs.find((s) => s.name === target);
  if (isPlainObject(target)) return specs.find((s) => keyOf(s.key) === keyOf(target));
  return undefined;
}

export function describeSpec(spec: IndexSpec): string {
  return formatValue(spec);
}
