/**
 * `?user=` (and `user` inside `$where`) on a log whose user field is sealed: an equality on
 * `user` also matches entries whose blind index (`subject`) is that user's, so readers filter as
 * before, and entries written in plaintext (before encryption was on, or without a user) still
 * match too. Only equality can be translated: `$regex`, `$term` search and ranges on `user`
 * (or any sealed field) see plaintext entries only. The README says so.
 */
import type { AuditFilter } from '../stores/types';

const LOGICAL = new Set(['$and', '$or', '$nor']);

/** Each user id's blind indexes (under every configured master key). */
type Subjects = (user: string) => string[];

function indexes(values: readonly unknown[], subjects: Subjects): string[] {
  return values.flatMap((value) => (typeof value === 'string' ? subjects(value) : typeof value === 'number' ? subjects(String(value)) : []));
}

function isOperatorObject(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date) && Object.keys(value).every((key) => key.startsWith('$'))
  );
}

/** The clause that replaces `{ user: condition }`, or null when the condition cannot be translated (left as it is). */
function userClause(condition: unknown, subjects: Subjects): AuditFilter | null {
  if (condition === null) return { user: null, subject: null }; // sealed entries have a user, stored null
  if (typeof condition === 'string' || typeof condition === 'number')
    return { $or: [{ user: condition }, { subject: { $in: indexes([condition], subjects) } }] };
  if (!isOperatorObject(condition)) return null;
  const keys = Object.keys(condition);
  if (keys.length !== 1) return null;
  const [operator] = keys as [string];
  const operand = condition[operator];
  switch (operator) {
    case '$eq':
      return userClause(operand, subjects);
    case '$in': {
      if (!Array.isArray(operand)) return null;
      const clauses: AuditFilter[] = [{ user: { $in: operand } }, { subject: { $in: indexes(operand, subjects) } }];
      if (operand.includes(null)) clauses[0] = { user: { $in: operand.filter((value) => value !== null) } };
      if (operand.includes(null)) clauses.push({ user: null, subject: null });
      return { $or: clauses };
    }
    case '$ne':
      if (operand === null) return { $or: [{ user: { $ne: null } }, { subject: { $ne: null } }] };
      if (typeof operand !== 'string' && typeof operand !== 'number') return null;
      return { $and: [{ user: { $ne: operand } }, { subject: { $nin: indexes([operand], subjects) } }] };
    case '$nin': {
      if (!Array.isArray(operand)) return null;
      const clauses: AuditFilter[] = [{ user: { $nin: operand } }, { subject: { $nin: indexes(operand, subjects) } }];
      if (operand.includes(null)) clauses.push({ $or: [{ user: { $ne: null } }, { subject: { $ne: null } }] });
      return { $and: clauses };
    }
    default:
      return null;
  }
}

/** The filter with every translatable condition on `user` matching sealed entries too. */
export function withUserIndex(filter: AuditFilter, subjects: Subjects): AuditFilter {
  const rest: AuditFilter = {};
  const added: AuditFilter[] = [];
  for (const [key, value] of Object.entries(filter)) {
    if (LOGICAL.has(key) && Array.isArray(value)) rest[key] = value.map((inner) => withUserIndex(inner as AuditFilter, subjects));
    else if (key === 'user') {
      const clause = userClause(value, subjects);
      if (clause) added.push(clause);
      else rest[key] = value;
    } else rest[key] = value;
  }
  if (added.length === 0) return rest;
  return Object.keys(rest).length === 0 && added.length === 1 ? added[0]! : { $and: [...(Object.keys(rest).length > 0 ? [rest] : []), ...added] };
}
