/**
 * Where mingo and mongod part ways on a filter, this makes the server answer as mongod does.
 * 1. Operands mongod refuses with BadValue (mingo silently matches nothing, or crashes): the
 *    messages are mongod's own (src/mongo/db/matcher/expression_parser.cpp and
 *    expression_leaf.cpp).
 * 2. Meanings mingo gets wrong, rewritten into forms it gets right: `$all` is an `$and` of
 *    equalities (so `{a: {$all: [5]}}` matches `{a: 5}`, and `$all: []` matches nothing);
 *    `$gte`/`$lte` null are equality with null, which a missing field meets; `$gt`/`$lt` null
 *    match nothing.
 * Known gaps left to mingo: it flattens nested arrays (`{a: 1}` matches `{a: [[1, 2]]}`, and
 * `a.k` with `$size` sees the collected values as one array), compares arrays without regard
 * to order (`{a: [3, 2]}` matches `{a: [2, 3]}`), and treats an array index past the end as a
 * missing field.
 */
import type { Document } from 'bson';
import { isOperatorObject, isPlainObject } from '../bson-utils';
import { CommandError } from '../errors';

const TYPE_ALIASES = new Set([
  'double',
  'string',
  'object',
  'array',
  'binData',
  'undefined',
  'objectId',
  'bool',
  'date',
  'null',
  'regex',
  'dbPointer',
  'javascript',
  'symbol',
  'javascriptWithScope',
  'int',
  'timestamp',
  'long',
  'decimal',
  'minKey',
  'maxKey',
  'number',
]);
const TYPE_CODES = new Set([-1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 127]);
const LOGICAL = new Set(['$and', '$or', '$nor']);

function bad(message: string): CommandError {
  return new CommandError(2, message);
}

function checkRegex(pattern: unknown): void {
  const source = pattern instanceof RegExp ? pattern.source : typeof pattern === 'string' ? pattern : null;
  if (source === null) throw bad('$regex has to be a string');
  if (source.includes('\u0000')) throw bad('Regular expression cannot contain an embedded null byte');
}

function checkType(operand: unknown): void {
  const list = Array.isArray(operand) ? operand : [operand];
  if (list.length === 0) throw bad('$type must match at least one type');
  for (const type of list) {
    if (typeof type === 'string') {
      if (!TYPE_ALIASES.has(type)) throw bad(`Unknown type name alias: ${type}`);
    } else if (typeof type !== 'number' || !TYPE_CODES.has(type)) {
      throw bad(`Invalid numerical type code: ${String(type)}`);
    }
  }
}

function checkMod(operand: unknown): void {
  if (!Array.isArray(operand)) throw bad('malformed mod, needs to be an array');
  if (operand.length < 2) throw bad('malformed mod, not enough elements');
  if (typeof operand[0] !== 'number') throw bad('malformed mod, divisor not a number');
  if (typeof operand[1] !== 'number') throw bad('malformed mod, remainder not a number');
  if (operand.length > 2) throw bad('malformed mod, too many elements');
}

function checkSize(operand: unknown): void {
  if (typeof operand !== 'number') throw bad('$size needs a number');
  if (!Number.isInteger(operand)) throw bad('$size must be a whole number');
  if (operand < 0) throw bad('$size may not be negative');
}

function checkOperators(condition: Document): void {
  for (const [op, operand] of Object.entries(condition)) {
    switch (op) {
      case '$in':
      case '$nin':
      case '$all':
        if (!Array.isArray(operand)) throw bad(`${op} needs an array`);
        for (const item of operand) if (item instanceof RegExp) checkRegex(item);
        break;
      case '$size':
        checkSize(operand);
        break;
      case '$type':
        checkType(operand);
        break;
      case '$mod':
        checkMod(operand);
        break;
      case '$regex':
        checkRegex(operand);
        break;
      case '$eq':
        if (operand instanceof RegExp) checkRegex(operand);
        break;
      case '$elemMatch':
        if (!isPlainObject(operand)) throw bad('$elemMatch needs an Object');
        if (isOperatorObject(operand)) checkOperators(operand);
        else checkFilter(operand);
        break;
      case '$not':
        if (operand instanceof RegExp) checkRegex(operand);
        else if (!isPlainObject(operand)) throw bad('$not needs a regex or a document');
        else if (Object.keys(operand).length === 0) throw bad('$not cannot be empty');
        else checkOperators(operand);
        break;
      default:
        break;
    }
  }
}

/** Throws mongod's BadValue for operands mongod refuses. */
export function checkFilter(filter: Document): void {
  for (const [key, value] of Object.entries(filter)) {
    if (LOGICAL.has(key)) {
      if (!Array.isArray(value)) throw bad(`${key} must be an array`);
      if (value.length === 0) throw bad('$and/$or/$nor must be a nonempty array');
      for (const part of value) {
        if (!isPlainObject(part)) throw bad(`${key} argument's entries must be objects`);
        checkFilter(part);
      }
    } else if (!key.startsWith('$')) {
      if (value instanceof RegExp) checkRegex(value);
      else if (isOperatorObject(value)) checkOperators(value);
    }
  }
}

const NOTHING: Document = { _id: { $in: [] } };

/** One `{field: {op: operand}}` as mingo must see it to mean what mongod means. */
function rewriteOperator(field: string, op: string, operand: unknown, whole: Document): Document {
  if (op === '$all' && Array.isArray(operand)) {
    if (operand.length === 0) return NOTHING;
    return { $and: operand.map((item) => (isOperatorObject(item) ? { [field]: item } : { [field]: { $eq: item } })) };
  }
  if (operand === null && (op === '$gte' || op === '$lte')) return { [field]: { $eq: null } };
  if (operand === null && (op === '$gt' || op === '$lt')) return NOTHING;
  if (op === '$not' && isPlainObject(operand)) return { $nor: [rewriteField(field, operand)] };
  if (op === '$options') return {};
  if (op === '$regex') return { [field]: '$options' in whole ? { $regex: operand, $options: whole.$options } : { $regex: operand } };
  return { [field]: { [op]: operand } };
}

function rewriteField(field: string, condition: Document): Document {
  const parts = Object.entries(condition)
    .map(([op, operand]) => rewriteOperator(field, op, operand, condition))
    .filter((part) => Object.keys(part).length > 0);
  return parts.length === 1 ? parts[0]! : { $and: parts };
}

/** The filter rewritten where mingo's meaning differs from mongod's (after checkFilter). */
export function rewriteForMingo(filter: Document): Document {
  const out: Document[] = [];
  for (const [key, value] of Object.entries(filter)) {
    if (LOGICAL.has(key) && Array.isArray(value)) out.push({ [key]: value.map((part) => rewriteForMingo(part as Document)) });
    else if (!key.startsWith('$') && isOperatorObject(value) && needsRewrite(value)) out.push(rewriteField(key, value));
    else out.push({ [key]: value });
  }
  if (out.length === 0) return {};
  if (out.length === 1) return out[0]!;
  return { $and: out };
}

function needsRewrite(condition: Document): boolean {
  return Object.entries(condition).some(([op, operand]) => op === '$all' || op === '$not' || (operand === null && ['$gt', '$gte', '$lt', '$lte'].includes(op)));
}
