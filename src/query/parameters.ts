/**
 * The query routes' parameters, listed once in machine-readable form: the parsers accept
 * exactly these names, and the OpenAPI description (src/openapi) publishes them. One filter
 * parameter per filterable field comes from FIELDS; the `$`-controls are declared here.
 */
import { FIELDS, FIELD_NAMES, type FieldKind, type FieldName } from '../entry';

/** A JSON Schema (2020-12, as OpenAPI 3.1 uses it) for one value of a parameter. */
export type JsonSchema = Record<string, unknown>;

export interface QueryParameter {
  name: string;
  description: string;
  /** The schema of one value; a parameter that may be repeated is described as an array of these. */
  schema: JsonSchema;
  /** May be given more than once (`?action=Create&action=Update`). */
  repeatable: boolean;
}

const DATE_OR_AGO = {
  type: 'string',
  description: 'an ISO 8601 date (2026-01-31, 2026-01-31T12:00:00Z) or a duration ago (15m, 1h, 7d)',
  examples: ['2026-01-31T12:00:00Z', '7d'],
};

/** The filters every read route shares: the list, history, export and stats routes. */
export const FILTER_CONTROLS: readonly QueryParameter[] = [
  { name: 'from', description: 'Entries at or after this moment.', schema: DATE_OR_AGO, repeatable: false },
  { name: 'to', description: 'Entries at or before this moment.', schema: DATE_OR_AGO, repeatable: false },
  {
    name: '$term',
    description: 'Case-insensitive text searched literally (never as a pattern) in the searchable fields, or in $searchFields.',
    schema: { type: 'string', maxLength: 256 },
    repeatable: false,
  },
  { name: '$searchFields', description: 'Comma-separated text fields $term searches.', schema: { type: 'string' }, repeatable: true },
  {
    name: '$where',
    description: 'A JSON MongoDB filter restricted to an operator allowlist (never JavaScript, $function or $expr).',
    schema: { type: 'string', examples: ['{"statusCode":{"$gte":500}}'] },
    repeatable: false,
  },
  { name: '$exclude', description: 'Comma-separated entry ids to leave out.', schema: { type: 'string' }, repeatable: true },
];

/** The list route's own controls: paging, sorting, projection, counting. */
export const LIST_CONTROLS: readonly QueryParameter[] = [
  { name: '$select', description: 'Comma-separated fields to return (_id always comes).', schema: { type: 'string' }, repeatable: true },
  { name: '$sort', description: 'Comma-separated fields, - for descending. Defaults to -date.', schema: { type: 'string' }, repeatable: true },
  {
    name: '$skip',
    description: 'Entries to skip (give $page or $skip, not both).',
    schema: { type: 'integer', minimum: 0, maximum: 1_000_000 },
    repeatable: false,
  },
  { name: '$page', description: 'The page to return, from 1.', schema: { type: 'integer', minimum: 1 }, repeatable: false },
  { name: '$limit', description: 'Entries per page.', schema: { type: 'integer', minimum: 1 }, repeatable: false },
  { name: '$count', description: 'true: answer with the number of matching entries only.', schema: { type: 'boolean' }, repeatable: false },
];

/** The stats route's own controls (src/query/stats.ts). */
export const STATS_CONTROLS: readonly QueryParameter[] = [
  {
    name: 'interval',
    description:
      'The width of a time bucket: a whole number of s, m, h, d or w. Defaults to the smallest of 1m, 5m, 15m, 1h, 6h, 1d, 7d that gives at most 100 buckets.',
    schema: { type: 'string', pattern: '^[1-9][0-9]*(s|m|h|d|w)$', examples: ['1h'] },
    repeatable: false,
  },
  {
    name: 'groupBy',
    description: 'Also count per value of this field (the most frequent first).',
    schema: { type: 'string', enum: ['action', 'user', 'collectionName', 'statusCode', 'method'] },
    repeatable: false,
  },
  { name: 'top', description: 'How many groups to return. Defaults to 10.', schema: { type: 'integer', minimum: 1, maximum: 100 }, repeatable: false },
];

/** The JSON Schema of a field's stored value (null allowed except for _id, date and isError). */
export function fieldSchema(field: FieldName): JsonSchema {
  const spec = FIELDS[field];
  const base: Record<FieldKind, JsonSchema> = {
    id: { type: 'string', pattern: '^[0-9a-f]{24}$' },
    date: { type: 'string', format: 'date-time' },
    string: 'values' in spec ? { enum: [...spec.values, null] } : { type: ['string', 'null'] },
    number: { type: ['number', 'null'] },
    boolean: { type: 'boolean' },
    strings: { type: ['array', 'null'], items: { type: 'string' } },
    json: {},
  };
  return base[spec.kind];
}

/** How one query-string value of a field filter is written. */
function filterValueSchema(field: FieldName): JsonSchema {
  const spec = FIELDS[field];
  switch (spec.kind) {
    case 'id':
      return { type: 'string', pattern: '^[0-9a-fA-F]{24}$' };
    case 'date':
      return { type: 'string', description: 'ISO 8601' };
    case 'number':
      return { type: 'number' };
    case 'boolean':
      return { type: 'boolean' };
    default:
      return 'values' in spec ? { type: 'string', enum: [...spec.values, 'null'] } : { type: 'string', description: "'null' matches entries without it" };
  }
}

/** One equality filter per filterable field: `?user=alice`, repeated for any of several. */
export const FIELD_FILTERS: readonly QueryParameter[] = FIELD_NAMES.filter((field) => FIELDS[field].filterable).map((field) => ({
  name: field,
  description: `Entries whose ${field} equals the value (repeat the parameter for any of several).`,
  schema: filterValueSchema(field),
  repeatable: true,
}));

export const LIST_PARAMETERS: readonly QueryParameter[] = [...LIST_CONTROLS, ...FILTER_CONTROLS, ...FIELD_FILTERS];

/** The list controls the export route refuses: it streams every match, newest first, up to exportMaxRows. */
export const EXPORT_REFUSED: readonly string[] = ['$sort', '$skip', '$page', '$limit', '$count'];
export const EXPORT_PARAMETERS: readonly QueryParameter[] = [
  { name: 'format', description: 'ndjson (default) or csv.', schema: { enum: ['ndjson', 'csv'] }, repeatable: false },
  ...LIST_PARAMETERS.filter((parameter) => !EXPORT_REFUSED.includes(parameter.name)),
];
export const STATS_PARAMETERS: readonly QueryParameter[] = [...STATS_CONTROLS, ...FILTER_CONTROLS, ...FIELD_FILTERS];

export function names(parameters: readonly QueryParameter[]): string[] {
  return parameters.map((parameter) => parameter.name);
}
