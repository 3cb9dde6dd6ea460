/**
 * The file store's table, derived from the entry's field list: one column per field (dates as
 * integer ms, booleans as 0/1, lists and JSON fields as JSON text), an `absent` bit mask so a
 * field the entry did not have comes back missing rather than null (MongoDB's `$exists`), and a
 * side table of `documents` values so `documents = x` is an index lookup. Dates inside JSON
 * fields are stored as `{"$date": ms}`: stored keys never start with `$` (capture/keys), so the
 * form cannot be confused with data.
 */
import { FIELDS, FIELD_NAMES, isFieldName, type AuditEntry, type FieldKind, type FieldName } from '../entry';

export const TABLE = 'audit_log';
export const DOCUMENTS_TABLE = 'audit_documents';
/** `(collectionName, document)` of each element of `changes`: the history route's `$elemMatch`, by index. */
export const CHANGES_TABLE = 'audit_changes';
/** Integrity checkpoints (src/integrity/checkpoint.ts): apart from the entries, never swept by the TTL. */
export const CHECKPOINTS_TABLE = 'audit_checkpoints';
/** Wrapped data keys of the `encryption` option (src/encryption/data-key.ts): never swept by the TTL. */
export const DATA_KEYS_TABLE = 'audit_data_keys';
/** Legal holds (src/governance/holds.ts), one JSON document per hold: apart from the entries, never swept. */
export const HOLDS_TABLE = 'audit_holds';
/** Small settings the store keeps for the package (the retention policy last applied). */
export const META_TABLE = 'audit_meta';
export const SCHEMA_VERSION = 1;

export interface Column {
  field: FieldName;
  kind: FieldKind;
  /** The column's name, quoted for SQL: field names come from FIELDS only. */
  sql: string;
  /** The field's bit in `absent`. */
  bit: number;
}

export const COLUMNS: readonly Column[] = FIELD_NAMES.map((field, i) => ({ field, kind: FIELDS[field].kind, sql: `"${field}"`, bit: 2 ** i }));
export const COLUMN_BY_FIELD = new Map(COLUMNS.map((column) => [column.field, column]));

export const SQL_TYPES: Record<FieldKind, string> = {
  id: 'TEXT',
  date: 'INTEGER',
  string: 'TEXT',
  number: 'NUMERIC',
  boolean: 'INTEGER',
  strings: 'TEXT',
  json: 'TEXT',
};

/** The indexes the list, history and detail routes use (the same set as the MongoDB store's). */
const INDEXES: Array<[string, string]> = [
  ['audit_log_date', '"date"'],
  ['audit_log_user_date', '"user", "date"'],
  ['audit_log_action_date', '"action", "date"'],
  ['audit_log_collection_date', '"collectionName", "date"'],
  ['audit_log_status_date', '"statusCode", "date"'],
  ['audit_log_request', '"requestId"'],
  // The TTL sweep and the retention route read by expiry; NULL (kept, held) sorts first and is skipped by `>`.
  ['audit_log_expire', '"expireAt"'],
];

/**
 * Columns a file made by an earlier version lacks (fields added to FIELDS since), added in place
 * before schemaSql() indexes them. Existing rows get the field's `absent` bit: they never had it.
 */
export function addMissingColumnsSql(existing: ReadonlySet<string>): string[] {
  if (existing.size === 0) return []; // a new file: schemaSql() creates the table whole
  const statements: string[] = [];
  for (const column of COLUMNS) {
    if (existing.has(column.field)) continue;
    statements.push(`ALTER TABLE ${TABLE} ADD COLUMN ${column.sql} ${SQL_TYPES[column.kind]}`, `UPDATE ${TABLE} SET absent = absent | ${column.bit}`);
  }
  if (!existing.has('extra')) statements.push(`ALTER TABLE ${TABLE} ADD COLUMN extra TEXT`);
  return statements;
}

export function schemaSql(): string {
  const columns = COLUMNS.map((column) =>
    column.field === '_id' ? '"_id" TEXT NOT NULL UNIQUE' : column.field === 'date' ? '"date" INTEGER NOT NULL' : `${column.sql} ${SQL_TYPES[column.kind]}`,
  );
  return [
    // `extra`: fields a transform added that FIELDS does not name, as JSON (the integrity hash covers them).
    `CREATE TABLE IF NOT EXISTS ${TABLE} (row INTEGER PRIMARY KEY, ${columns.join(', ')}, absent INTEGER NOT NULL DEFAULT 0, extra TEXT)`,
    ...INDEXES.map(([name, on]) => `CREATE INDEX IF NOT EXISTS ${name} ON ${TABLE} (${on})`),
    `CREATE TABLE IF NOT EXISTS ${DOCUMENTS_TABLE} (document TEXT NOT NULL, row INTEGER NOT NULL, PRIMARY KEY (document, row)) WITHOUT ROWID`,
    `CREATE INDEX IF NOT EXISTS ${DOCUMENTS_TABLE}_row ON ${DOCUMENTS_TABLE} (row)`,
    `CREATE TABLE IF NOT EXISTS ${CHANGES_TABLE} (collection TEXT NOT NULL, document TEXT NOT NULL, row INTEGER NOT NULL, PRIMARY KEY (collection, document, row)) WITHOUT ROWID`,
    `CREATE INDEX IF NOT EXISTS ${CHANGES_TABLE}_row ON ${CHANGES_TABLE} (row)`,
    `CREATE TABLE IF NOT EXISTS ${CHECKPOINTS_TABLE} (id TEXT PRIMARY KEY, at INTEGER NOT NULL, doc TEXT NOT NULL) WITHOUT ROWID`,
    `CREATE INDEX IF NOT EXISTS ${CHECKPOINTS_TABLE}_at ON ${CHECKPOINTS_TABLE} (at, id)`,
    `CREATE TABLE IF NOT EXISTS ${DATA_KEYS_TABLE} (id TEXT PRIMARY KEY, subject TEXT NOT NULL, doc TEXT NOT NULL) WITHOUT ROWID`,
    `CREATE INDEX IF NOT EXISTS ${DATA_KEYS_TABLE}_subject ON ${DATA_KEYS_TABLE} (subject)`,
    `CREATE TABLE IF NOT EXISTS ${HOLDS_TABLE} (id TEXT PRIMARY KEY, doc TEXT NOT NULL) WITHOUT ROWID`,
    `CREATE TABLE IF NOT EXISTS ${META_TABLE} (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID`,
    // Deleting an entry (TTL) deletes its side-table rows: one statement, however rows go.
    `CREATE TRIGGER IF NOT EXISTS ${TABLE}_documents_delete AFTER DELETE ON ${TABLE} BEGIN DELETE FROM ${DOCUMENTS_TABLE} WHERE row = old.row; DELETE FROM ${CHANGES_TABLE} WHERE row = old.row; END`,
  ].join(';\n');
}

const toStringTag = Object.prototype.toString;

export function isDate(value: unknown): value is Date {
  return value instanceof Date || (value !== null && typeof value === 'object' && toStringTag.call(value) === '[object Date]');
}

function dateReplacer(this: Record<string, unknown>, key: string, value: unknown): unknown {
  // JSON.stringify has already called Date#toJSON: look at the value it came from.
  return typeof value === 'string' && isDate(this[key]) ? { $date: (this[key] as Date).getTime() } : value;
}

function dateReviver(_key: string, value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const ms = (value as { $date?: unknown }).$date;
  return typeof ms === 'number' && Object.keys(value).length === 1 ? new Date(ms) : value;
}

/** True when a Date is somewhere in the value: most payloads hold none, and a replacer costs every key. */
function holdsDate(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) {
    for (const item of value) if (holdsDate(item)) return true;
    return false;
  }
  if (isDate(value)) return true;
  for (const key in value) if (holdsDate((value as Record<string, unknown>)[key])) return true;
  return false;
}

export function toJsonText(value: unknown): string {
  return holdsDate(value) ? JSON.stringify(value, dateReplacer) : JSON.stringify(value);
}

export function fromJsonText(text: string): unknown {
  return text.includes('"$date"') ? JSON.parse(text, dateReviver) : JSON.parse(text);
}

/** The strings a value equals for MongoDB's equality: itself, or the strings of an array. */
function equalStrings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

/**
 * The `(collection, document)` pairs an entry's `changes` holds, one per element that is a
 * document: exactly the pairs `{ changes: { $elemMatch: { collectionName: c, document: d } } }`
 * matches with strings c and d.
 */
export function changePairs(changes: unknown): Array<[string, string]> {
  if (!Array.isArray(changes)) return [];
  const pairs: Array<[string, string]> = [];
  for (const element of changes) {
    if (element === null || typeof element !== 'object' || Array.isArray(element) || isDate(element)) continue;
    const { collectionName, document } = element as { collectionName?: unknown; document?: unknown };
    for (const collection of equalStrings(collectionName)) for (const id of equalStrings(document)) pairs.push([collection, id]);
  }
  return pairs;
}

/** Thrown for an entry that can never be stored: the writer drops it rather than retrying. */
export class UnstorableEntryError extends Error {
  readonly rejected = true;
}

/** A field's value as its column holds it. */
export function encodeValue(kind: FieldKind, value: unknown, field: string): unknown {
  if (value === null || value === undefined) return null;
  switch (kind) {
    case 'date':
      if (isDate(value) && !Number.isNaN(value.getTime())) return value.getTime();
      throw new UnstorableEntryError(`${field} must be a valid Date; got ${toStringTag.call(value)}`);
    case 'boolean':
      return value ? 1 : 0;
    case 'number':
      if (typeof value === 'number') return value;
      throw new UnstorableEntryError(`${field} must be a number; got ${typeof value}`);
    case 'strings':
    case 'json':
      return toJsonText(value);
    default:
      return typeof value === 'string' ? value : String(value);
  }
}

/** A column's value back as the field's value. */
export function decodeValue(kind: FieldKind, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  switch (kind) {
    case 'date':
      return new Date(value as number);
    case 'boolean':
      return value === 1;
    case 'strings':
    case 'json':
      return fromJsonText(value as string);
    default:
      return value;
  }
}

/** The row's parameters, in COLUMNS order then `absent`. Throws UnstorableEntryError. */
export function encodeEntry(entry: AuditEntry): unknown[] {
  const record = entry as unknown as Record<string, unknown>;
  const row: unknown[] = new Array(COLUMNS.length + 2);
  let absent = 0;
  for (let i = 0; i < COLUMNS.length; i++) {
    const column = COLUMNS[i]!;
    const value = record[column.field];
    if (value === undefined && !Object.prototype.hasOwnProperty.call(record, column.field)) absent += column.bit;
    row[i] = encodeValue(column.kind, value, column.field);
  }
  if (typeof row[0] !== 'string' || row[0] === '') throw new UnstorableEntryError('an entry needs an _id string');
  if (row[1] === null) throw new UnstorableEntryError('an entry needs a date');
  row[COLUMNS.length] = absent;
  let extra: Record<string, unknown> | null = null;
  for (const key in record) if (!isFieldName(key) && record[key] !== undefined) (extra ??= {})[key] = record[key];
  row[COLUMNS.length + 1] = extra === null ? null : encodeValue('json', extra, 'extra');
  return row;
}

/** The entry from a row holding the given columns (and `absent`). */
export function decodeRow(row: Record<string, unknown>, columns: readonly Column[]): Partial<AuditEntry> {
  const absent = row.absent as number;
  const out: Record<string, unknown> = {};
  for (const column of columns) {
    // Not `absent & bit`: JavaScript's bitwise operators cut to 32 bits, and there are more fields than that.
    if (Math.floor(absent / column.bit) % 2 === 1) continue;
    out[column.field] = decodeValue(column.kind, row[column.field]);
  }
  if (typeof row.extra === 'string') Object.assign(out, decodeValue('json', row.extra));
  return out as Partial<AuditEntry>;
}
