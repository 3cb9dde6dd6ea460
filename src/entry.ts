/**
 * The audit entry's fields, declared once. The mongoose schema, the embedded stores, the
 * query-string coercion and the `$select`/`$sort` allowlists are all derived from FIELDS,
 * so adding a field here is the only edit needed to make it storable and queryable.
 */

/** How a field is stored and how a query-string value for it is coerced. */
export type FieldKind = 'id' | 'date' | 'string' | 'number' | 'boolean' | 'strings' | 'json';

export interface FieldSpec {
  readonly kind: FieldKind;
  /** Allowed values, for enum-like fields (validated on filters and manual entries). */
  readonly values?: readonly string[];
  /** Filterable with `?field=value` on the list route. JSON fields are not (use `$where`). */
  readonly filterable: boolean;
  /** Included when `$term` searches without `$searchFields`. */
  readonly searchable: boolean;
}

export const ASSOCIATION_TYPES = ['ONE_MANY', 'MANY_MANY', '_MANY'] as const;
export type AssociationType = (typeof ASSOCIATION_TYPES)[number];

export const FIELDS = {
  _id: { kind: 'id', filterable: true, searchable: false },
  date: { kind: 'date', filterable: true, searchable: false },
  method: { kind: 'string', filterable: true, searchable: false },
  action: { kind: 'string', filterable: true, searchable: true },
  endpoint: { kind: 'string', filterable: true, searchable: true },
  user: { kind: 'string', filterable: true, searchable: true },
  collectionName: { kind: 'string', filterable: true, searchable: true },
  childCollectionName: { kind: 'string', filterable: true, searchable: true },
  associationType: { kind: 'string', values: ASSOCIATION_TYPES, filterable: true, searchable: false },
  documents: { kind: 'strings', filterable: true, searchable: false },
  payload: { kind: 'json', filterable: false, searchable: false },
  params: { kind: 'json', filterable: false, searchable: false },
  result: { kind: 'json', filterable: false, searchable: false },
  statusCode: { kind: 'number', filterable: true, searchable: false },
  isError: { kind: 'boolean', filterable: true, searchable: false },
  responseMessage: { kind: 'string', filterable: true, searchable: true },
  ipAddress: { kind: 'string', filterable: true, searchable: true },
  notes: { kind: 'string', filterable: true, searchable: true },
  requestId: { kind: 'string', filterable: true, searchable: false },
  traceId: { kind: 'string', filterable: true, searchable: false },
  durationMs: { kind: 'number', filterable: true, searchable: false },
  userAgent: { kind: 'string', filterable: true, searchable: true },
  truncated: { kind: 'strings', filterable: true, searchable: false },
  /** Rendered from the action's template (`actions` option) or given to `record()`. */
  message: { kind: 'string', filterable: true, searchable: true },
  /** What the mongoose plugin saw change: `[{ collectionName, document, op, path, from, to }]`. */
  changes: { kind: 'json', filterable: false, searchable: false },
  /** True when the client closed the connection before the response was complete; absent otherwise. */
  aborted: { kind: 'boolean', filterable: true, searchable: false },
  /** Manual entries (`POST {basePath}`) only: the user who posted it, from the request's auth; the body cannot set it. */
  postedBy: { kind: 'string', filterable: true, searchable: true },
  /** With `integrity` on: the writer's chain (one per process), this entry's place in it, the hash before it and its own (see src/integrity). */
  chain: { kind: 'string', filterable: true, searchable: false },
  seq: { kind: 'number', filterable: true, searchable: false },
  prevHash: { kind: 'string', filterable: false, searchable: false },
  hash: { kind: 'string', filterable: true, searchable: false },
  /**
   * With `getTenant`: the tenant the entry belongs to; reads are restricted to the caller's.
   * Fields from here on are appended, never inserted: the file store's `absent` bits follow this order.
   */
  tenant: { kind: 'string', filterable: true, searchable: false },
  /** With `encryption` on: the keyed blind index of `user` (what `?user=` filters match), and the sealed personal fields (see src/encryption). */
  subject: { kind: 'string', filterable: false, searchable: false },
  sealed: { kind: 'string', filterable: false, searchable: false },
  /**
   * Governance metadata, never hashed (src/integrity/canonical.ts): when the entry expires (from the first matching
   * `retention` rule, else `ttl`; null: kept, absent: follows the default `ttl`), and the legal holds that keep it.
   */
  expireAt: { kind: 'date', filterable: true, searchable: false },
  holds: { kind: 'strings', filterable: true, searchable: false },
} as const satisfies Record<string, FieldSpec>;

export type FieldName = keyof typeof FIELDS;
export const FIELD_NAMES = Object.keys(FIELDS) as FieldName[];

export function isFieldName(name: string): name is FieldName {
  return Object.prototype.hasOwnProperty.call(FIELDS, name);
}

/**
 * A value as stored in payload, params, result and changes: JSON, plus Dates, which sanitizing
 * keeps (a date given to record() or seen by the diff plugin) and every store returns as Dates.
 * Over HTTP they arrive as ISO strings.
 */
export type JsonValue = string | number | boolean | null | Date | JsonValue[] | { [key: string]: JsonValue };

/**
 * One path that changed in one document, as the `auditChanges` mongoose plugin saw it. `from`
 * is absent when the path did not exist before, `to` when it no longer exists (deletes).
 */
export interface AuditChange {
  collectionName: string;
  document: string | null;
  op: 'update' | 'delete';
  path: string;
  from?: JsonValue;
  to?: JsonValue;
}

/** One audit entry, as stores hold it and the query routes return it (dates as Date objects). */
export interface AuditEntry {
  /** 24-hex ObjectId string, generated by the middleware before the first write attempt. */
  _id: string;
  date: Date;
  method: string | null;
  action: string | null;
  endpoint: string | null;
  user: string | null;
  collectionName: string | null;
  childCollectionName: string | null;
  associationType: AssociationType | null;
  documents: string[] | null;
  payload: JsonValue | null;
  params: JsonValue | null;
  result: JsonValue | null;
  statusCode: number | null;
  isError: boolean;
  responseMessage: string | null;
  ipAddress: string | null;
  notes: string | null;
  requestId: string | null;
  traceId: string | null;
  durationMs: number | null;
  userAgent: string | null;
  truncated: string[] | null;
  // Optional so entries built before these fields existed (and manual entries) stay valid.
  message?: string | null;
  changes?: AuditChange[] | null;
  /** Set (true) only on requests the client abandoned before the response was complete. */
  aborted?: boolean;
  postedBy?: string | null;
  /** With the `integrity` option: the chain the writer numbered it in, its place, the previous entry's hash (null first) and its own hash. */
  chain?: string;
  seq?: number;
  prevHash?: string | null;
  hash?: string;
  /** With the `getTenant` option: whose entry this is (null: no tenant). Absent when the option is off. */
  tenant?: string | null;
  /** With the `encryption` option: the user's blind index, and the sealed personal fields (`1:<key id>:<fields>:<ciphertext>`); the fields it names are stored as null. */
  subject?: string;
  sealed?: string;
  /** When the store deletes it: null while held or kept forever by a rule; absent when it follows the default `ttl` and none is set. Not hashed. */
  expireAt?: Date | null;
  /** The ids of the legal holds that keep it; absent when none. Not hashed. */
  holds?: string[];
}

/** An entry with every field null except the required ones; the start of every entry built. */
export function blankEntry(_id: string, date: Date): AuditEntry {
  return {
    _id,
    date,
    method: null,
    action: null,
    endpoint: null,
    user: null,
    collectionName: null,
    childCollectionName: null,
    associationType: null,
    documents: null,
    payload: null,
    params: null,
    result: null,
    statusCode: null,
    isError: false,
    responseMessage: null,
    ipAddress: null,
    notes: null,
    requestId: null,
    traceId: null,
    durationMs: null,
    userAgent: null,
    truncated: null,
    message: null,
    changes: null,
    postedBy: null,
  };
}
