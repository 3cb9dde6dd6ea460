/**
 * Translates the store-neutral filter (MongoDB syntax, see AuditFilter) into nedb's dialect.
 * nedb has no `$eq`, `$nor` or `$all`, and its `$not` negates a whole query rather than one
 * field's condition, so those four are rewritten; everything else passes through.
 */
import type { AuditFilter } from './types';

function isOperatorObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof RegExp) && !(value instanceof Date) &&
    Object.keys(value).every((key) => key.startsWith('$'));
}

function fieldConditions(field: string, condition: Record<string, unknown>): AuditFilter[] {
  const plain: Record<string, unknown> = {};
  const extra: AuditFilter[] = [];
  for (const [op, operand] of Object.entries(condition)) {
    if (op === '$eq') extra.push({ [field]: operand });
    else if (op === '$not') extra.push({ $not: translate({ [field]: operand }) });
    else if (op === '$all' && Array.isArray(operand)) for (const item of operand) extra.push({ [field]: item });
    // nedb matches scalar elements against an operator object natively (minus `$eq`); documents need translating.
    else if (op === '$elemMatch') plain[op] = isOperatorObject(operand) ? scalarOperators(operand) : translate(operand as AuditFilter);
    else plain[op] = operand;
  }
  return Object.keys(plain).length > 0 ? [{ [field]: plain }, ...extra] : extra;
}

function scalarOperators(condition: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [op, operand] of Object.entries(condition)) {
    if (op === '$eq') out.$in = [operand];
    else out[op] = operand;
  }
  return out;
}

/**
 * Merges `$and` parts into top-level fields where they do not clash. nedb picks an index only
 * from top-level fields, and the list route builds `{ $and: [...] }`: unflattened, every query
 * over 100k entries was a full scan (measured: 117 ms; flattened, the user index answers).
 */
function flatten(parts: AuditFilter[]): AuditFilter {
  const merged: AuditFilter = {};
  const rest: AuditFilter[] = [];
  const queue = [...parts];
  while (queue.length > 0) {
    const part = queue.shift()!;
    for (const [key, value] of Object.entries(part)) {
      if (key === '$and' && Array.isArray(value)) queue.push(...(value as AuditFilter[]));
      else if (!(key in merged)) merged[key] = value;
      else rest.push({ [key]: value });
    }
  }
  if (rest.length > 0) merged.$and = rest;
  return merged;
}

export function translate(filter: AuditFilter): AuditFilter {
  const parts: AuditFilter[] = [];
  for (const [key, value] of Object.entries(filter)) {
    if (key === '$and' || key === '$or') parts.push({ [key]: (value as AuditFilter[]).map(translate) });
    else if (key === '$nor') parts.push({ $not: { $or: (value as AuditFilter[]).map(translate) } });
    else if (isOperatorObject(value)) parts.push(...fieldConditions(key, value));
    else parts.push({ [key]: value });
  }
  return flatten(parts);
}
