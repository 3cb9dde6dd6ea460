/**
 * `$where` is a JSON filter, checked against an allowlist before any store sees it: known
 * fields (or dotted paths into payload, params and result), comparison and logical operators
 * only. Never `$where` JavaScript, `$function`, `$expr`, `$accumulator`, `$regex` (use
 * `$term`; a client-supplied pattern is a ReDoS risk) or anything else a store would run.
 */
import { FIELDS, isFieldName, type FieldName } from '../entry';
import { AuditLogQueryError } from '../errors';
import { encodeKey } from '../capture/keys';
import { coerceFieldValue } from './coerce';
import type { AuditFilter } from '../stores/types';

const P = '$where';
const MAX_BYTES = 8192;
const MAX_DEPTH = 8;
const LOGICAL = new Set(['$and', '$or', '$nor']);
const COMPARISON = new Set(['$eq', '$ne', '$gt', '$gte', '$lt', '$lte', '$in', '$nin', '$exists', '$size', '$all', '$elemMatch', '$not']);
/** Operators about arrays. On a field that holds one scalar type they can never match, and mongoose refuses to cast them ("Can't use $size with String", a 503). */
const ARRAY_ONLY = new Set(['$size', '$elemMatch']);

/** True when the path can hold an array: a list field, or any path into a JSON field. */
function mayHoldArray(field: FieldName, path: string): boolean {
  return path !== field || FIELDS[field].kind === 'strings' || FIELDS[field].kind === 'json';
}

function fieldOf(path: string): FieldName {
  const root = path.split('.')[0] ?? '';
  if (!isFieldName(root) || (root !== path && FIELDS[root].kind !== 'json')) {
    throw new AuditLogQueryError(
      P,
      `$where names an unknown field '${path.slice(0, 64)}'; use entry fields (user, action, date, ...) or paths into payload, params or result.`,
    );
  }
  if (path.split('.').some((part) => part === '' || part.startsWith('$'))) {
    throw new AuditLogQueryError(P, `$where field path '${path.slice(0, 64)}' is malformed.`);
  }
  return root;
}

function scalar(field: FieldName, path: string, value: unknown): unknown {
  if (value === null) return value;
  if (typeof value === 'number' || typeof value === 'boolean') {
    // A typed field only holds its own type: a store would fail to cast anything else (500s).
    const kind = path === field ? FIELDS[field].kind : 'json';
    if (kind === 'json' || (kind === 'number' && typeof value === 'number') || (kind === 'boolean' && typeof value === 'boolean')) return value;
    if (kind === 'string' || kind === 'strings') return String(value);
    if (kind === 'date' && typeof value === 'number') {
      // Milliseconds since 1970; past ±8.64e15 there is no such Date, and a store would fail to cast it.
      const date = new Date(value);
      if (!Number.isNaN(date.getTime())) return date;
      throw new AuditLogQueryError(
        P,
        `$where: '${path.slice(0, 64)}' holds a date; ${JSON.stringify(value)} is not a time a date can hold (milliseconds since 1970, at most ±8.64e15), use an ISO date like "2026-01-31".`,
      );
    }
    throw new AuditLogQueryError(
      P,
      `$where: '${path.slice(0, 64)}' holds ${kind === 'id' ? 'an id (a 24-character hex string)' : `a ${kind}`}; got ${JSON.stringify(value)}.`,
    );
  }
  if (typeof value === 'string') {
    // Dates, ids and enums arrive as JSON strings: coerce them like query-string values.
    return path === field && FIELDS[field].kind !== 'json' && FIELDS[field].kind !== 'string' && FIELDS[field].kind !== 'strings'
      ? coerceFieldValue(field, value, P)
      : value;
  }
  throw new AuditLogQueryError(
    P,
    `$where values must be strings, numbers, booleans or null; '${path.slice(0, 64)}' has ${Array.isArray(value) ? 'an array' : typeof value}.`,
  );
}

function condition(field: FieldName, path: string, value: unknown, depth: number): unknown {
  if (value === null || typeof value !== 'object') return scalar(field, path, value);
  if (Array.isArray(value)) throw new AuditLogQueryError(P, `$where: use {"$in": [...]} to match '${path.slice(0, 64)}' against a list.`);
  if (Object.keys(value).length === 0 && path === field && FIELDS[field].kind !== 'json') {
    // A typed field never equals an object; a store would fail to cast it (a 500).
    throw new AuditLogQueryError(P, `$where: '${path.slice(0, 64)}' has an empty condition {}.`);
  }
  const out: Record<string, unknown> = {};
  for (const [op, operand] of Object.entries(value as Record<string, unknown>)) {
    if (!COMPARISON.has(op)) {
      throw new AuditLogQueryError(P, `$where operator '${op.slice(0, 32)}' is not allowed; allowed: ${[...LOGICAL, ...COMPARISON].join(', ')}.`);
    }
    if (ARRAY_ONLY.has(op) && !mayHoldArray(field, path)) {
      throw new AuditLogQueryError(
        P,
        `$where ${op} applies to lists: documents, truncated, or paths into payload, params, result or changes; '${path.slice(0, 64)}' holds ${FIELDS[field].kind === 'id' ? 'an id' : `a ${FIELDS[field].kind}`}.`,
      );
    }
    if (op === '$in' || op === '$nin' || op === '$all') {
      if (!Array.isArray(operand) || operand.length > 1000) throw new AuditLogQueryError(P, `$where ${op} needs an array of at most 1000 values.`);
      out[op] = operand.map((item) => scalar(field, path, item));
    } else if (op === '$exists') {
      if (typeof operand !== 'boolean') throw new AuditLogQueryError(P, '$where $exists takes true or false.');
      out[op] = operand;
    } else if (op === '$size') {
      if (!Number.isInteger(operand) || (operand as number) < 0) throw new AuditLogQueryError(P, '$where $size takes a whole number.');
      out[op] = operand;
    } else if (op === '$not' || op === '$elemMatch') {
      if (operand === null || typeof operand !== 'object' || Array.isArray(operand))
        throw new AuditLogQueryError(P, `$where ${op} takes an object of operators.`);
      if (depth >= MAX_DEPTH) throw new AuditLogQueryError(P, `$where is nested deeper than ${MAX_DEPTH}.`);
      if (op === '$not' && Object.keys(operand).length === 0) throw new AuditLogQueryError(P, '$where $not needs at least one operator.');
      out[op] = condition(field, path, operand, depth + 1);
    } else {
      out[op] = scalar(field, path, operand);
    }
  }
  return out;
}

function filter(value: unknown, depth: number): AuditFilter {
  if (depth > MAX_DEPTH) throw new AuditLogQueryError(P, `$where is nested deeper than ${MAX_DEPTH}.`);
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new AuditLogQueryError(P, '$where must be a JSON object, like {"statusCode":{"$gte":500}}.');
  const out: AuditFilter = {};
  for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
    if (LOGICAL.has(key)) {
      if (!Array.isArray(inner) || inner.length === 0) throw new AuditLogQueryError(P, `$where ${key} needs a non-empty array of conditions.`);
      out[key] = inner.map((part) => filter(part, depth + 1));
    } else if (key.startsWith('$')) {
      throw new AuditLogQueryError(P, `$where operator '${key.slice(0, 32)}' is not allowed at the top level; allowed: ${[...LOGICAL].join(', ')}.`);
    } else {
      // Paths into payload, params and result address stored keys, which are encoded (capture/keys).
      const [root, ...parts] = key.split('.');
      out[[root, ...parts.map(encodeKey)].join('.')] = condition(fieldOf(key), key, inner, depth + 1);
    }
  }
  return out;
}

export function parseWhere(text: string): AuditFilter {
  if (text.length > MAX_BYTES) throw new AuditLogQueryError(P, `$where is longer than ${MAX_BYTES} characters.`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new AuditLogQueryError(P, '$where is not valid JSON; quote operators and strings, like {"statusCode":{"$gte":500}}.');
  }
  return filter(json, 0);
}
