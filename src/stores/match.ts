/**
 * MongoDB's query semantics for the embedded stores, so a `$where` finds the same entries on
 * memory, file and MongoDB. A filter compiles once into a predicate. What MongoDB does, and
 * nedb's matcher did not:
 * - only a document's own keys exist (`payload.constructor`, `payload.s.length` match nothing);
 * - a path through an array looks into each element that is a document, and a numeric part
 *   indexes the array; `$exists`, `$size` and `$elemMatch` see an array as one value;
 * - equality to null also matches a missing path;
 * - comparisons only compare values of one type (`{statusCode: {$gt: 'a'}}` matches nothing);
 * - `$all: []` matches nothing, `$all: [x]` on a scalar is equality.
 * The operators are those AuditFilter allows; anything else is a programming error and throws.
 */
import type { AuditFilter } from './types';

type Predicate = (doc: unknown) => boolean;
/** Tests one value found at a path; `whole` means it must not be expanded (an array reached by index). */
type ValueTest = (value: unknown, whole: boolean) => boolean;

const hasOwn = Object.prototype.hasOwnProperty;
const toStringTag = Object.prototype.toString;

function isDate(value: object): value is Date {
  return value instanceof Date || toStringTag.call(value) === '[object Date]';
}

function isRegExp(value: unknown): value is RegExp {
  return value instanceof RegExp || (value !== null && typeof value === 'object' && toStringTag.call(value) === '[object RegExp]');
}

/** A document (not an array, Date or RegExp): the only values a path can look into by key. */
function isDocument(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !isDate(value) && !isRegExp(value);
}

function isIndex(part: string): boolean {
  return /^\d+$/.test(part);
}

/**
 * Calls `test` on each value the path reaches (MongoDB's branches) until one passes. A missing
 * key gives `undefined` once; an index past the end, or a key looked up in an array, gives nothing.
 */
function someBranch(doc: unknown, parts: readonly string[], i: number, test: ValueTest): boolean {
  const part = parts[i]!;
  let found: unknown;
  if (Array.isArray(doc)) {
    if (!isIndex(part) || Number(part) >= doc.length) return false;
    found = doc[Number(part)];
  } else {
    found = hasOwn.call(doc, part) ? (doc as Record<string, unknown>)[part] : undefined;
  }
  if (i === parts.length - 1) return test(found, Array.isArray(doc) && Array.isArray(found));
  if (!Array.isArray(found) && !isDocument(found)) return Array.isArray(doc) ? false : test(undefined, false);
  if (someBranch(found, parts, i + 1, test)) return true;
  if (Array.isArray(found)) {
    for (const element of found) if (isDocument(element) && someBranch(element, parts, i + 1, test)) return true;
  }
  return false;
}

/** MongoDB's comparison order between types; values of different types never compare. */
function bracket(value: unknown): number {
  if (value === null || value === undefined) return 1;
  switch (typeof value) {
    case 'number':
      return 2;
    case 'string':
      return 3;
    case 'boolean':
      return 8;
    case 'object':
      if (Array.isArray(value)) return 5;
      if (isDate(value)) return 9;
      if (isRegExp(value)) return 11;
      return 4;
    default:
      return 100;
  }
}

/** BSON equality: same type, same value; documents also need the same key order. */
function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  const kind = bracket(a);
  if (kind !== bracket(b)) return false;
  switch (kind) {
    case 1:
      return true;
    case 5:
      return (a as unknown[]).length === (b as unknown[]).length && (a as unknown[]).every((item, i) => same(item, (b as unknown[])[i]));
    case 9:
      return (a as Date).getTime() === (b as Date).getTime();
    case 11:
      return String(a) === String(b);
    case 4: {
      const ka = Object.keys(a as object);
      const kb = Object.keys(b as object);
      return ka.length === kb.length && ka.every((key, i) => key === kb[i] && same((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]));
    }
    default:
      return false;
  }
}

/** A test on one value, also applied to each element when the value is an array (MongoDB's implicit array matching). */
function expanding(test: (value: unknown) => boolean): ValueTest {
  return (value, whole) => test(value) || (!whole && Array.isArray(value) && value.some(test));
}

function regexTest(pattern: RegExp): (value: unknown) => boolean {
  return (value) => (typeof value === 'string' ? ((pattern.lastIndex = 0), pattern.test(value)) : isRegExp(value) && String(value) === String(pattern));
}

function equalsTest(operand: unknown): (value: unknown) => boolean {
  if (isRegExp(operand)) return regexTest(operand);
  if (operand === null || operand === undefined) return (value) => value === null || value === undefined;
  return (value) => value !== undefined && same(value, operand);
}

function compareTest(op: string, operand: unknown): (value: unknown) => boolean {
  if (operand === null) {
    // null is alone in its bracket: $gte/$lte null are equality with null (which a missing path meets).
    return op === '$gte' || op === '$lte' ? equalsTest(null) : () => false;
  }
  const kind = bracket(operand);
  if (kind !== 2 && kind !== 3 && kind !== 8 && kind !== 9) throw new Error(`${op} takes a number, string, boolean, date or null`);
  const key = kind === 9 ? (operand as Date).getTime() : (operand as number | string | boolean);
  return (value) => {
    if (value === undefined || bracket(value) !== kind) return false;
    const v = kind === 9 ? (value as Date).getTime() : (value as number | string | boolean);
    switch (op) {
      case '$gt':
        return v > key;
      case '$gte':
        return v >= key;
      case '$lt':
        return v < key;
      default:
        return v <= key;
    }
  };
}

function listOf(op: string, operand: unknown): unknown[] {
  if (!Array.isArray(operand)) throw new Error(`${op} needs an array`);
  return operand;
}

function isOperatorObject(value: unknown): value is Record<string, unknown> {
  return isDocument(value) && Object.keys(value)[0]?.startsWith('$') === true;
}

function onPath(parts: readonly string[], test: ValueTest, negate = false): Predicate {
  return negate ? (doc) => !someBranch(doc, parts, 0, test) : (doc) => someBranch(doc, parts, 0, test);
}

function all(predicates: Predicate[]): Predicate {
  if (predicates.length === 1) return predicates[0]!;
  return (doc) => predicates.every((predicate) => predicate(doc));
}

/** One field's operator object, e.g. `{ $gte: 200, $lt: 300 }`: every operator must hold, each on its own branches. */
function compileOperators(parts: readonly string[], condition: Record<string, unknown>): Predicate {
  const predicates: Predicate[] = [];
  for (const [op, operand] of Object.entries(condition)) {
    switch (op) {
      case '$eq':
        predicates.push(onPath(parts, expanding(equalsTest(operand))));
        break;
      case '$ne':
        predicates.push(onPath(parts, expanding(equalsTest(operand)), true));
        break;
      case '$gt':
      case '$gte':
      case '$lt':
      case '$lte':
        predicates.push(onPath(parts, expanding(compareTest(op, operand))));
        break;
      case '$in':
      case '$nin': {
        const tests = listOf(op, operand).map(equalsTest);
        predicates.push(
          onPath(
            parts,
            expanding((value) => tests.some((test) => test(value))),
            op === '$nin',
          ),
        );
        break;
      }
      case '$all': {
        const items = listOf(op, operand);
        predicates.push(items.length === 0 ? () => false : all(items.map((item) => onPath(parts, expanding(equalsTest(item))))));
        break;
      }
      case '$exists':
        predicates.push(onPath(parts, (value) => value !== undefined, !operand));
        break;
      case '$size': {
        if (typeof operand !== 'number' || !Number.isInteger(operand) || operand < 0) throw new Error('$size takes a whole number');
        predicates.push(onPath(parts, (value) => Array.isArray(value) && value.length === operand));
        break;
      }
      case '$elemMatch': {
        if (!isDocument(operand)) throw new Error('$elemMatch needs an object');
        // Operators apply to each element as one value ([el] reached by index is never expanded); a filter applies to element documents.
        const element: Predicate = isOperatorObject(operand)
          ? (
              (inner) => (item: unknown) =>
                inner([item])
            )(compileOperators(['0'], operand))
          : (
              (inner) => (item: unknown) =>
                (isDocument(item) || Array.isArray(item)) && inner(item)
            )(compileFilter(operand as AuditFilter));
        predicates.push(onPath(parts, (value) => Array.isArray(value) && value.some(element)));
        break;
      }
      case '$not': {
        const inner = isRegExp(operand) ? onPath(parts, expanding(regexTest(operand))) : isOperatorObject(operand) ? compileOperators(parts, operand) : null;
        if (!inner) throw new Error('$not needs a regex or an object of operators');
        predicates.push((doc) => !inner(doc));
        break;
      }
      case '$regex': {
        const options = condition.$options;
        const pattern = isRegExp(operand) ? operand : new RegExp(String(operand), typeof options === 'string' ? options : '');
        predicates.push(onPath(parts, expanding(regexTest(pattern))));
        break;
      }
      case '$options':
        if (!('$regex' in condition)) throw new Error('$options needs a $regex');
        break;
      default:
        throw new Error(`unknown operator: ${op}`);
    }
  }
  return all(predicates);
}

function compileField(path: string, condition: unknown): Predicate {
  const parts = path.split('.');
  return isOperatorObject(condition) ? compileOperators(parts, condition) : onPath(parts, expanding(equalsTest(condition)));
}

/** Compiles a store-neutral filter into a predicate on one stored entry (or any document). */
export function compileFilter(filter: AuditFilter): Predicate {
  const predicates: Predicate[] = [];
  for (const [key, value] of Object.entries(filter)) {
    if (key === '$and' || key === '$or' || key === '$nor') {
      const parts = listOf(key, value).map((part) => compileFilter(part as AuditFilter));
      if (parts.length === 0) throw new Error(`${key} needs a non-empty array`);
      if (key === '$and') predicates.push(all(parts));
      else if (key === '$or') predicates.push((doc) => parts.some((part) => part(doc)));
      else predicates.push((doc) => !parts.some((part) => part(doc)));
    } else if (key.startsWith('$')) {
      throw new Error(`unknown top level operator: ${key}`);
    } else {
      predicates.push(compileField(key, value));
    }
  }
  return predicates.length === 0 ? () => true : all(predicates);
}
