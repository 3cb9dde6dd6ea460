/**
 * Turns one query-string value into the typed value a field holds, or says why it cannot.
 * Values are always literals: nothing here builds an operator or a regular expression from
 * client text, which is what keeps `?user[$ne]=x` and friends from meaning anything.
 */
import { FIELDS, type FieldName } from '../entry';
import { AuditLogQueryError } from '../errors';

const OBJECT_ID = /^[0-9a-f]{24}$/i;
const MAX_VALUE_LENGTH = 1024;

export function isObjectIdString(value: string): boolean {
  return OBJECT_ID.test(value);
}

export function parseDate(parameter: string, text: string): Date {
  // Only ISO 8601 forms: Date.parse also accepts locale strings whose meaning varies by host.
  if (!/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(text)) {
    throw new AuditLogQueryError(parameter, `${parameter} must be an ISO 8601 date like 2026-01-31 or 2026-01-31T12:00:00Z; got '${text.slice(0, 64)}'.`);
  }
  const date = new Date(text);
  if (Number.isNaN(date.getTime())) throw new AuditLogQueryError(parameter, `${parameter} is not a real date: '${text.slice(0, 64)}'.`);
  return date;
}

export function coerceFieldValue(field: FieldName, text: string, parameter: string = field): unknown {
  if (text.length > MAX_VALUE_LENGTH) throw new AuditLogQueryError(parameter, `${parameter} is longer than ${MAX_VALUE_LENGTH} characters.`);
  const spec = FIELDS[field];
  switch (spec.kind) {
    case 'id':
      if (!OBJECT_ID.test(text)) throw new AuditLogQueryError(parameter, `${parameter} must be a 24-character hex id; got '${text.slice(0, 64)}'.`);
      return text.toLowerCase();
    case 'date':
      return parseDate(parameter, text);
    case 'number': {
      const value = Number(text);
      if (text.trim() === '' || !Number.isFinite(value)) throw new AuditLogQueryError(parameter, `${parameter} must be a number; got '${text.slice(0, 64)}'.`);
      return value;
    }
    case 'boolean':
      if (text !== 'true' && text !== 'false') throw new AuditLogQueryError(parameter, `${parameter} must be true or false; got '${text.slice(0, 64)}'.`);
      return text === 'true';
    case 'json':
      throw new AuditLogQueryError(parameter, `${parameter} cannot be filtered by value; use $where, e.g. $where={"${field}.name":"x"}.`);
    default:
      if ('values' in spec && !(spec.values as readonly string[]).includes(text) && text !== 'null') {
        throw new AuditLogQueryError(parameter, `${parameter} must be one of ${(spec.values as readonly string[]).join(', ')}; got '${text.slice(0, 64)}'.`);
      }
      return text === 'null' ? null : text; // '?user=null' finds entries without a user
  }
}

/**
 * Escapes text for use inside a RegExp, so `$term` matches it literally. NUL becomes `\x00`:
 * a BSON regular expression is a C string, so the driver refuses a pattern holding a NUL byte
 * (and MongoDB refuses one in a `$regex` string), which was a 503 for `$term=a%00b`.
 */
export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&').replace(/\0/g, '\\x00');
}
