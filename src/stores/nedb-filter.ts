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

export function translate(filter: AuditFilter): AuditFilter {
  const parts: AuditFilter[] = [];
  for (const [key, value] of Object.entries(filter)) {
    if (key === '$and' || key === '$or') parts.push({ [key]: (value as AuditFilter[]).map(translate) });
    else if (key === '$nor') parts.push({ $not: { $or: (value as AuditFilter[]).map(translate) } });
    else if (isOperatorObject(value)) parts.push(...fieldConditions(key, value));
    else parts.push({ [key]: value });
  }
  if (parts.length === 0) return {};
  if (parts.length === 1) return parts[0]!;
  return { $and: parts };
}
