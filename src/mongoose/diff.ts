/**
 * Which paths differ between two versions of a document. Plain objects are walked, so a
 * nested change is reported at its dotted path ('address.city'); anything else (arrays,
 * dates, ObjectIds, binary) is a value compared whole, because an index-by-index diff of
 * an array says less than its before and after. A path that exists on one side only has
 * only `from` or only `to`.
 */

export interface PathChange {
  path: string;
  from?: unknown;
  to?: unknown;
}

export interface DiffOptions {
  /** Dotted paths (and everything under them) never reported. */
  ignore: ReadonlySet<string>;
  /** A value under a path with a secret segment is replaced, on both sides. */
  isSecret: (key: string) => boolean;
  redacted: string;
  /** Objects nested deeper are compared whole. */
  maxDepth: number;
  /** Stop after this many changes: a document is not an audit log. */
  maxChanges: number;
}

type Bson = { _bsontype?: unknown; toHexString?: () => string; equals?: (other: unknown) => boolean };

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return (proto === Object.prototype || proto === null) && (value as Bson)._bsontype === undefined;
}

/** Deep equality for values read from MongoDB: ObjectIds by hex, dates by time, keys in any order. */
export function sameValue(a: unknown, b: unknown, depth = 0): boolean {
  if (Object.is(a, b)) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (depth > 64) return false;
  if (a instanceof Date || b instanceof Date) return a instanceof Date && b instanceof Date && a.getTime() === b.getTime();
  const bsonA = (a as Bson)._bsontype;
  const bsonB = (b as Bson)._bsontype;
  if (bsonA !== undefined || bsonB !== undefined) {
    if (bsonA !== bsonB) return false;
    if (typeof (a as Bson).equals === 'function') return (a as Bson).equals!(b);
    return String(a) === String(b);
  }
  if (ArrayBuffer.isView(a) || ArrayBuffer.isView(b)) {
    return (
      ArrayBuffer.isView(a) &&
      ArrayBuffer.isView(b) &&
      Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength))
    );
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, i) => sameValue(item, b[i], depth + 1));
  }
  const keysA = Object.keys(a);
  const keysB = Object.keys(b);
  if (keysA.length !== keysB.length) return false;
  return keysA.every((key) => Object.hasOwn(b, key) && sameValue((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], depth + 1));
}

/** The changes from `before` to `after`, both documents (plain objects) or undefined for "none". */
export function diffDocuments(before: unknown, after: unknown, options: DiffOptions): PathChange[] {
  const out: PathChange[] = [];
  walk(isPlainObject(before) ? before : {}, isPlainObject(after) ? after : {}, '', false, 0, options, out);
  return out;
}

function walk(
  before: Record<string, unknown>,
  after: Record<string, unknown>,
  prefix: string,
  secret: boolean,
  depth: number,
  options: DiffOptions,
  out: PathChange[],
): void {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  for (const key of keys) {
    if (out.length >= options.maxChanges) return;
    const path = prefix ? `${prefix}.${key}` : key;
    if (options.ignore.has(path)) continue;
    const hasFrom = Object.hasOwn(before, key) && before[key] !== undefined;
    const hasTo = Object.hasOwn(after, key) && after[key] !== undefined;
    const from = before[key];
    const to = after[key];
    if (hasFrom && hasTo && sameValue(from, to)) continue;
    const underSecret = secret || options.isSecret(key);
    if (hasFrom && hasTo && isPlainObject(from) && isPlainObject(to) && depth + 1 < options.maxDepth) {
      walk(from, to, path, underSecret, depth + 1, options, out);
      continue;
    }
    const change: PathChange = { path };
    if (hasFrom) change.from = underSecret ? options.redacted : from;
    if (hasTo) change.to = underSecret ? options.redacted : to;
    out.push(change);
  }
}
