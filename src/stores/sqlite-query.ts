/**
 * A store-neutral AuditFilter as parameterised SQL for the file store, with MongoDB's meaning
 * (./match documents it). No value is ever written into the SQL: values are bound, and the only
 * names written are column names from FIELDS and constants derived from them.
 *
 * Conditions on entry fields (the list route's filters, `from`/`to`, `$term`, `$exclude`, and
 * `$where` on fields) are translated to SQL the indexes serve. Conditions that reach into JSON
 * fields (`payload.a.b`, `changes` `$elemMatch`), and the rare shapes whose exact SQL would be
 * long (an `$elemMatch` on `documents`), run ./match's predicate on the row's value through the
 * `audit_match` function, inside the same SQL: paging and counting stay in SQLite, and the
 * answer is exactly the memory store's. The history route's `changes` `$elemMatch` on
 * `(collectionName, document)` is an index lookup in a side table instead. A substring pre-test (`instr` on the JSON text) skips
 * rows that cannot match an equality before any JSON is parsed.
 *
 * Every fragment is two-valued (0 or 1, never NULL), so NOT means what it says.
 */
import { compileFilter } from './match';
import { CHANGES_TABLE, COLUMN_BY_FIELD, DOCUMENTS_TABLE, decodeValue, isDate, type Column } from './sqlite-schema';
import { regexSql } from './sqlite-regex';
import type { AuditFilter, AuditQuery } from './types';

/** Row tests run in JS by `audit_match(id, value)`, for one query. */
export interface PredicateScope {
  add(test: (value: unknown) => boolean): number;
}

const COMPARE: Record<string, string> = { $gt: '>', $gte: '>=', $lt: '<', $lte: '<=' };

function isRegExp(value: unknown): value is RegExp {
  return value instanceof RegExp || Object.prototype.toString.call(value) === '[object RegExp]';
}

function isDocument(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !isDate(value) && !isRegExp(value);
}

function isOperatorObject(value: unknown): value is Record<string, unknown> {
  return isDocument(value) && Object.keys(value)[0]?.startsWith('$') === true;
}

function isComparable(value: unknown): boolean {
  return typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean' || isDate(value);
}

/** The history route's `{ $elemMatch: { collectionName: c, document: d } }` with strings c and d, as [c, d]. */
function changePair(condition: unknown): [string, string] | null {
  if (!isDocument(condition) || Object.keys(condition).length !== 1) return null;
  const inner = condition.$elemMatch;
  if (!isDocument(inner) || Object.keys(inner).length !== 2) return null;
  const { collectionName, document } = inner;
  return typeof collectionName === 'string' && typeof document === 'string' ? [collectionName, document] : null;
}

const or = (parts: string[]): string => (parts.length === 0 ? '0' : parts.length === 1 ? parts[0]! : `(${parts.join(' OR ')})`);
const and = (parts: string[]): string => (parts.length === 0 ? '1' : parts.length === 1 ? parts[0]! : `(${parts.join(' AND ')})`);
const not = (sql: string): string => `(NOT ${sql})`;

export class SqlFilter {
  readonly params: unknown[] = [];

  constructor(private readonly scope: PredicateScope) {}

  private bind = (value: unknown): string => {
    this.params.push(value);
    return '?';
  };

  /** The WHERE clause for a filter. */
  filter(filter: AuditFilter): string {
    const parts: string[] = [];
    for (const [key, value] of Object.entries(filter)) {
      if (key === '$and' || key === '$or' || key === '$nor') {
        if (!Array.isArray(value) || value.length === 0) throw new Error(`${key} needs a non-empty array`);
        const inner = value.map((part) => this.filter(part as AuditFilter));
        parts.push(key === '$and' ? and(inner) : key === '$or' ? or(inner) : not(or(inner)));
      } else if (key.startsWith('$')) {
        throw new Error(`unknown top level operator: ${key}`);
      } else {
        parts.push(this.field(key, value));
      }
    }
    return and(parts);
  }

  private field(path: string, condition: unknown): string {
    const column = COLUMN_BY_FIELD.get(path.split('.')[0] as never);
    if (column?.field === 'changes' && path === 'changes') {
      const pair = changePair(condition);
      if (pair) return `(row IN (SELECT row FROM ${CHANGES_TABLE} WHERE collection = ${this.bind(pair[0])} AND document = ${this.bind(pair[1])}))`;
    }
    if (!column || path !== column.field || column.kind === 'json') return this.inJs(path, condition, column);
    if (!isOperatorObject(condition)) return this.equals(column, condition);
    const parts: string[] = [];
    for (const [op, operand] of Object.entries(condition)) {
      const sql = this.operator(column, op, operand, condition);
      if (sql === null) return this.inJs(path, condition, column);
      parts.push(sql);
    }
    return and(parts);
  }

  /** One operator on an entry field's column; null when only ./match can say (or throw) what it means. */
  private operator(column: Column, op: string, operand: unknown, condition: Record<string, unknown>): string | null {
    const list = column.kind === 'strings';
    switch (op) {
      case '$eq':
        return this.equals(column, operand);
      case '$ne':
        return not(this.equals(column, operand));
      case '$in':
      case '$nin': {
        if (!Array.isArray(operand)) return null;
        const sql = this.oneOf(column, operand);
        return op === '$in' ? sql : not(sql);
      }
      case '$gt':
      case '$gte':
      case '$lt':
      case '$lte': {
        if (operand === null) return op === '$gte' || op === '$lte' ? `(${column.sql} IS NULL)` : '0';
        if (!isComparable(operand)) return null;
        const value = this.scalar(list ? 'string' : column.kind, operand);
        if (value === undefined) return '0';
        return list
          ? `EXISTS (SELECT 1 FROM json_each(${column.sql}) WHERE value ${COMPARE[op]} ${this.bind(value)})`
          : `${this.notNull(column)}${column.sql} ${COMPARE[op]} ${this.bind(value)})`;
      }
      case '$exists':
        return `((absent & ${column.bit}) ${operand ? '=' : '!='} 0)`;
      case '$not': {
        if (isRegExp(operand)) return not(this.equals(column, operand));
        if (!isOperatorObject(operand)) return null;
        const parts: string[] = [];
        for (const [innerOp, innerOperand] of Object.entries(operand)) {
          const sql = this.operator(column, innerOp, innerOperand, operand);
          if (sql === null) return null;
          parts.push(sql);
        }
        return not(and(parts));
      }
      case '$regex': {
        const options = condition.$options;
        return this.equals(column, isRegExp(operand) ? operand : new RegExp(String(operand), typeof options === 'string' ? options : ''));
      }
      case '$options':
        return '$regex' in condition ? '1' : null;
      case '$all': {
        if (!Array.isArray(operand)) return null;
        return operand.length === 0 ? '0' : and(operand.map((item) => this.equals(column, item)));
      }
      case '$size': {
        if (typeof operand !== 'number' || !Number.isInteger(operand) || operand < 0) return null;
        return list ? `coalesce(json_array_length(${column.sql}) = ${this.bind(operand)}, 0)` : '0';
      }
      case '$elemMatch':
        return list || !isDocument(operand) ? null : '0';
      default:
        return null;
    }
  }

  /**
   * Opens a two-valued comparison: `c > ?` is NULL on a NULL column, and NOT NULL is NULL. A
   * separate `IS NOT NULL` term (rather than coalesce()) leaves the comparison to the index.
   */
  private notNull(column: Column): string {
    return column.field === 'date' || column.field === '_id' ? '(' : `(${column.sql} IS NOT NULL AND `;
  }

  /** A value as the column holds it, or undefined when no value of the column's type can equal it. */
  private scalar(kind: Column['kind'], value: unknown): unknown {
    switch (kind) {
      case 'id':
      case 'string':
        return typeof value === 'string' ? value : undefined;
      case 'number':
        return typeof value === 'number' && !Number.isNaN(value) ? value : undefined;
      case 'boolean':
        return typeof value === 'boolean' ? (value ? 1 : 0) : undefined;
      case 'date':
        return isDate(value) && !Number.isNaN(value.getTime()) ? value.getTime() : undefined;
      default:
        return undefined;
    }
  }

  /** Equality as MongoDB means it: null also finds a missing field, a list field matches when one element does. */
  private equals(column: Column, value: unknown): string {
    const c = column.sql;
    if (value === null || value === undefined) return `(${c} IS NULL)`;
    if (column.kind === 'strings') {
      if (isRegExp(value)) return `EXISTS (SELECT 1 FROM json_each(${c}) WHERE ${regexSql('value', value, this.bind)})`;
      if (typeof value === 'string') return this.contains(column, [value]);
      // A whole list: stored lists are JSON.stringify'd string arrays, so equal lists have equal text.
      if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return `(${c} IS ${this.bind(JSON.stringify(value))})`;
      return '0';
    }
    if (isRegExp(value)) return column.kind === 'string' || column.kind === 'id' ? regexSql(c, value, this.bind) : '0';
    const scalar = this.scalar(column.kind, value);
    return scalar === undefined ? '0' : `(${c} IS ${this.bind(scalar)})`;
  }

  /** `$in`: one query per kind of value, so `c IN (...)` and the documents table stay indexed. */
  private oneOf(column: Column, values: unknown[]): string {
    const parts: string[] = [];
    const plain: unknown[] = [];
    for (const value of values) {
      if (value === null || value === undefined || isRegExp(value) || Array.isArray(value)) parts.push(this.equals(column, value));
      else if (column.kind === 'strings' ? typeof value === 'string' : this.scalar(column.kind, value) !== undefined)
        plain.push(column.kind === 'strings' ? value : this.scalar(column.kind, value));
    }
    if (plain.length > 0) {
      parts.push(column.kind === 'strings' ? this.contains(column, plain) : `${this.notNull(column)}${column.sql} IN (${plain.map(this.bind).join(', ')}))`);
    }
    return or(parts);
  }

  /** A list field holding one of the strings; `documents` through its indexed side table. */
  private contains(column: Column, values: unknown[]): string {
    const placeholders = values.map(this.bind).join(', ');
    return column.field === 'documents'
      ? `(row IN (SELECT row FROM ${DOCUMENTS_TABLE} WHERE document IN (${placeholders})))`
      : `EXISTS (SELECT 1 FROM json_each(${column.sql}) WHERE value IN (${placeholders}))`;
  }

  /**
   * The condition evaluated by ./match on the row's value of the field. A NULL column (the field
   * null or missing) is answered here, from what the predicate says of those two cases.
   */
  private inJs(path: string, condition: unknown, column: Column | undefined): string {
    const predicate = compileFilter({ [path]: condition });
    if (!column) return predicate({}) ? '1' : '0'; // not an entry field: missing on every entry
    const { field, kind, sql: c, bit } = column;
    const onAbsent = predicate({}) ? 1 : 0;
    const onNull = predicate({ [field]: null }) ? 1 : 0;
    // Placeholders bind in order: the pre-test comes first in the SQL, so it binds first.
    const needles = onAbsent === 0 && onNull === 0 && kind === 'json' ? this.needles(c, condition) : null;
    const id = this.scope.add((value) => predicate({ [field]: decodeValue(kind, value) }));
    const whenNull = onAbsent === onNull ? String(onNull) : `(CASE WHEN (absent & ${bit}) != 0 THEN ${onAbsent} ELSE ${onNull} END)`;
    const sql = `(CASE WHEN ${c} IS NULL THEN ${whenNull} ELSE audit_match(${this.bind(id)}, ${c}) END)`;
    return needles ? `(${needles} AND ${sql})` : sql;
  }

  /**
   * A cheap necessary test for equality conditions on a JSON field: a value found at any path is
   * in the column's JSON text as JSON.stringify writes it, as the stored text was written.
   */
  private needles(c: string, condition: unknown): string | null {
    const needle = (value: unknown): string | null =>
      typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))
        ? `coalesce(instr(${c}, ${this.bind(JSON.stringify(value))}) > 0, 0)`
        : null;
    if (!isOperatorObject(condition)) return needle(condition);
    const entries = Object.entries(condition);
    for (const [op, operand] of entries) {
      if (op === '$eq') return needle(operand);
      if ((op === '$in' || op === '$all') && Array.isArray(operand) && operand.length > 0) {
        const start = this.params.length;
        const parts = operand.map(needle);
        if (parts.every((part) => part !== null)) return op === '$in' ? or(parts as string[]) : and(parts as string[]);
        this.params.length = start; // not usable: drop what was bound
      }
    }
    return null;
  }
}

/** ORDER BY for the query's sort, with `_id` last (in the first key's direction) so pages are stable. */
export function orderBy(sort: AuditQuery['sort']): string {
  const keys: Array<[string, 1 | -1]> = [...sort];
  if (!keys.some(([field]) => field === '_id')) keys.push(['_id', sort[0]?.[1] ?? -1]);
  return keys
    .map(([field, direction]) => {
      const column = COLUMN_BY_FIELD.get(field as never);
      if (!column) throw new Error(`cannot sort on unknown field ${field}`);
      // A list sorts by its smallest element ascending and its largest descending, as in MongoDB.
      const expr = column.kind === 'strings' ? `(SELECT ${direction === 1 ? 'min' : 'max'}(value) FROM json_each(${column.sql}))` : column.sql;
      return `${expr} ${direction === 1 ? 'ASC' : 'DESC'}`;
    })
    .join(', ');
}
