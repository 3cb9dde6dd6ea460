/** Small BSON helpers shared by storage, queries and commands. */
import { BSON, ObjectId, type Document } from 'bson';

/**
 * Deep copy through BSON, so ObjectId, Binary, Long, Date... keep their classes
 * (structuredClone turns ObjectId into a plain object).
 */
export function cloneDoc<T extends Document>(doc: T): T {
  return BSON.deserialize(BSON.serialize(doc)) as T;
}

/**
 * A string identity for a value with BSON equality, e.g. for `_id` lookups and unique keys.
 * Serialized bytes, not JSON: ObjectId('a...') and the string 'a...' must differ.
 */
export function keyOf(value: unknown): string {
  return Buffer.from(BSON.serialize({ k: value })).toString('latin1');
}

export function sizeOf(doc: Document): number {
  return BSON.calculateObjectSize(doc, { ignoreUndefined: true });
}

/** A plain `{...}` document, as opposed to an array, Date, ObjectId or other BSON value. */
export function isPlainObject(value: unknown): value is Document {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** True for `{$gt: 1}`-style operator objects (first key starts with `$`). */
export function isOperatorObject(value: unknown): value is Document {
  if (!isPlainObject(value)) return false;
  const first = Object.keys(value)[0];
  return first !== undefined && first.startsWith('$');
}

/**
 * Every value a dotted path reaches, walking into arrays the way mongod's index keys do
 * (`tags` on `{tags: ['a', 'b']}` gives 'a' and 'b'). Missing paths give nothing.
 */
export function valuesAtPath(doc: unknown, path: string): unknown[] {
  const out: unknown[] = [];
  const walk = (value: unknown, parts: string[]): void => {
    if (parts.length === 0) {
      if (Array.isArray(value)) out.push(...value);
      else out.push(value);
      return;
    }
    if (Array.isArray(value)) {
      const [head, ...rest] = parts;
      if (head !== undefined && /^\d+$/.test(head)) walk(value[Number(head)], rest);
      else for (const item of value) walk(item, parts);
      return;
    }
    if (value === null || typeof value !== 'object') return;
    const [head, ...rest] = parts;
    if (head === undefined || !Object.prototype.hasOwnProperty.call(value, head)) return;
    walk((value as Document)[head], rest);
  };
  walk(doc, path.split('.'));
  return out.filter((v) => v !== undefined);
}

/** Sets a dotted path, creating plain objects on the way (for upsert seeds). */
export function setPath(doc: Document, path: string, value: unknown): void {
  const parts = path.split('.');
  let target: Document = doc;
  for (const part of parts.slice(0, -1)) {
    if (!isPlainObject(target[part])) target[part] = {};
    target = target[part] as Document;
  }
  target[parts[parts.length - 1] as string] = value;
}

/** `_id` first, as mongod stores it; a missing `_id` is generated like mongod does. */
export function withIdFirst(doc: Document): Document {
  const id: unknown = '_id' in doc ? doc._id : new ObjectId();
  const keys = Object.keys(doc);
  if (keys[0] === '_id') return doc;
  const out: Document = { _id: id };
  for (const key of keys) if (key !== '_id') out[key] = doc[key];
  return out;
}

/** A value the way mongod prints it in messages: `{ _id: ObjectId('...') }`, `"text"`. */
export function formatValue(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (value instanceof ObjectId) return `ObjectId('${value.toHexString()}')`;
  if (value instanceof Date) return `new Date(${value.getTime()})`;
  if (Array.isArray(value)) return `[ ${value.map(formatValue).join(', ')} ]`;
  if (isPlainObject(value)) {
    const inner = Object.entries(value).map(([k, v]) => `${k}: ${formatValue(v)}`);
    return inner.length ? `{ ${inner.join(', ')} }` : '{}';
  }
  return String(value);
}
