/**
 * Parses the list route's query string into a store-neutral AuditQuery. Every parameter is
 * checked: unknown names, repeated singletons, non-string values (what `?a[b]=c` gives under
 * the extended parser) and out-of-range numbers are a 400 that names the parameter.
 */
import ms from 'ms';
import { FIELDS, FIELD_NAMES, type FieldName } from '../entry';
import { AuditLogQueryError } from '../errors';
import { didYouMean } from '../options';
import type { AuditFilter, AuditQuery } from '../stores/types';
import { coerceFieldValue, escapeRegExp, parseDate } from './coerce';
import { LIST_PARAMETERS, names } from './parameters';
import { parseWhere } from './where';

export interface ListLimits {
  defaultLimit: number;
  maxLimit: number;
}

export interface ListRequest {
  query: AuditQuery;
  /** `$count=true`: answer with the bare number. */
  countOnly: boolean;
  /** The page number the answer reports (from `$page`, or derived from `$skip`). */
  page: number;
}

const LIST_NAMES = names(LIST_PARAMETERS);
const UNSUPPORTED: Record<string, string> = {
  $embed: 'the audit log has no associations to embed',
  $flatten: 'the audit log has no associations to flatten',
  $text: 'use $term for free-text search',
};
const MAX_SKIP = 1_000_000;
const MAX_TERM = 256;
const MAX_VALUES = 100;
const SORTABLE = FIELD_NAMES.filter((field) => FIELDS[field].kind !== 'json');
const SEARCHABLE = FIELD_NAMES.filter((field) => FIELDS[field].searchable);
const TEXT_FIELDS = FIELD_NAMES.filter((field) => FIELDS[field].kind === 'string');

type Raw = Record<string, unknown>;

function values(raw: Raw, name: string): string[] {
  const value = raw[name];
  const list = Array.isArray(value) ? value : [value];
  if (list.some((item) => typeof item !== 'string')) {
    throw new AuditLogQueryError(name, `${name} must be a plain value; operators and nested keys (like ${name}[$ne]=x) are not accepted.`);
  }
  if (list.length > MAX_VALUES) throw new AuditLogQueryError(name, `${name} is repeated more than ${MAX_VALUES} times.`);
  return list as string[];
}

export function single(raw: Raw, name: string): string | undefined {
  if (raw[name] === undefined) return undefined;
  const list = values(raw, name);
  if (list.length !== 1) throw new AuditLogQueryError(name, `${name} may be given only once.`);
  return list[0];
}

export function integer(raw: Raw, name: string, min: number, max: number): number | undefined {
  const text = single(raw, name);
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new AuditLogQueryError(name, `${name} must be a whole number from ${min} to ${max}; got '${text.slice(0, 32)}'.`);
  }
  return Number(text);
}

/** Comma lists and repeats both work: `$select=a,b` and `$select=a&$select=b`. */
function fieldList(raw: Raw, name: string, allowed: readonly string[], prefixes = false): string[] {
  if (raw[name] === undefined) return [];
  const items = values(raw, name)
    .flatMap((item) => item.split(','))
    .map((item) => item.trim())
    .filter(Boolean);
  for (const item of items) {
    const field = prefixes ? item.replace(/^[-+]/, '') : item;
    if (!allowed.includes(field)) {
      throw new AuditLogQueryError(name, `${name} has '${field.slice(0, 64)}', which is not one of ${allowed.join(', ')}.${didYouMean(field, allowed)}`);
    }
  }
  return items;
}

/** `from`/`to`: an ISO date, or a duration ago such as `15m`, `1h`, `7d`. */
function moment(raw: Raw, name: 'from' | 'to', now: number): Date | undefined {
  const text = single(raw, name);
  if (text === undefined) return undefined;
  if (/^\d+(\.\d+)?\s*(ms|s|m|h|d|w|y)$/.test(text)) {
    const ago = ms(text as ms.StringValue);
    const date = new Date(now - ago);
    // A duration too long for any Date (1e12y) would reach the store as an Invalid Date.
    if (!Number.isNaN(date.getTime())) return date;
    throw new AuditLogQueryError(
      name,
      `${name}=${text.slice(0, 64)} reaches back further than any date (about 270,000 years at most); use a shorter duration like 7d or an ISO date.`,
    );
  }
  return parseDate(name, text);
}

/** `from` and `to` as the list route reads them (the verify route reads the same). */
export function parseDateRange(raw: Raw, now = Date.now()): { from: Date | undefined; to: Date | undefined } {
  const from = moment(raw, 'from', now);
  const to = moment(raw, 'to', now);
  if (from && to && from > to) throw new AuditLogQueryError('from', `from (${from.toISOString()}) is after to (${to.toISOString()}).`);
  return { from, to };
}

function fieldFilter(raw: Raw, field: FieldName): unknown {
  let list = values(raw, field);
  // rest-hapi also accepts a JSON array in one value: ?documents=["a","b"].
  if (list.length === 1 && /^\[.*\]$/s.test(list[0]!)) {
    try {
      const parsed: unknown = JSON.parse(list[0]!);
      if (Array.isArray(parsed) && parsed.every((item) => typeof item === 'string' || typeof item === 'number')) list = parsed.map(String);
    } catch {
      // not JSON: a literal value that happens to start with '['
    }
  }
  const typed = list.map((text) => coerceFieldValue(field, text));
  return typed.length === 1 ? typed[0] : { $in: typed };
}

/** Refuses any parameter not in `accepted`, naming it and what would work. */
export function checkParameterNames(raw: Raw, accepted: readonly string[]): void {
  for (const name of Object.keys(raw)) {
    if (accepted.includes(name)) continue;
    if (UNSUPPORTED[name]) throw new AuditLogQueryError(name, `${name} is not supported: ${UNSUPPORTED[name]}.`);
    throw new AuditLogQueryError(name, `unknown query parameter '${name.slice(0, 64)}'.${didYouMean(name, accepted)} Accepted: ${accepted.join(', ')}.`);
  }
}

/**
 * The filter the read routes share (field filters, from/to, $exclude, $term, $where) as a list
 * of conditions to AND; the date range is also returned on its own, for routes that need it.
 */
export function parseFilterConditions(
  raw: Raw,
  now = Date.now(),
  options: { dates: boolean } = { dates: true },
): { conditions: AuditFilter[]; from: Date | undefined; to: Date | undefined } {
  const conditions: AuditFilter[] = [];
  for (const field of FIELD_NAMES) {
    if (raw[field] !== undefined) conditions.push({ [field]: fieldFilter(raw, field) });
  }

  const { from, to } = parseDateRange(raw, now);
  if (options.dates && (from || to)) conditions.push({ date: { ...(from && { $gte: from }), ...(to && { $lte: to }) } });

  if (raw.$exclude !== undefined) {
    const ids = values(raw, '$exclude')
      .flatMap((item) => item.split(','))
      .map((id) => coerceFieldValue('_id', id.trim(), '$exclude'));
    conditions.push({ _id: { $nin: ids } });
  }

  const term = single(raw, '$term');
  if (term !== undefined) {
    if (term.length > MAX_TERM) throw new AuditLogQueryError('$term', `$term is longer than ${MAX_TERM} characters.`);
    const fields = raw.$searchFields === undefined ? SEARCHABLE : (fieldList(raw, '$searchFields', TEXT_FIELDS) as FieldName[]);
    if (term !== '') {
      const pattern = new RegExp(escapeRegExp(term), 'i');
      conditions.push({ $or: fields.map((field) => ({ [field]: { $regex: pattern } })) });
    }
  } else if (raw.$searchFields !== undefined) {
    throw new AuditLogQueryError('$searchFields', '$searchFields only makes sense with $term.');
  }

  const where = single(raw, '$where');
  if (where !== undefined) conditions.push(parseWhere(where));
  return { conditions, from, to };
}

export function andAll(conditions: readonly AuditFilter[]): AuditFilter {
  return conditions.length === 0 ? {} : conditions.length === 1 ? conditions[0]! : { $and: [...conditions] };
}

export function parseListQuery(raw: Raw, limits: ListLimits, now = Date.now()): ListRequest {
  checkParameterNames(raw, LIST_NAMES);
  const { conditions } = parseFilterConditions(raw, now);

  const limit = integer(raw, '$limit', 1, limits.maxLimit) ?? limits.defaultLimit;
  const pageParam = integer(raw, '$page', 1, Math.floor(MAX_SKIP / limit) + 1);
  const skipParam = integer(raw, '$skip', 0, MAX_SKIP);
  if (pageParam !== undefined && skipParam !== undefined) throw new AuditLogQueryError('$skip', 'give $page or $skip, not both.');
  const skip = skipParam ?? ((pageParam ?? 1) - 1) * limit;

  const countText = single(raw, '$count');
  if (countText !== undefined && countText !== 'true' && countText !== 'false') {
    throw new AuditLogQueryError('$count', `$count must be true or false; got '${countText.slice(0, 32)}'.`);
  }

  const sortItems = fieldList(raw, '$sort', SORTABLE, true);
  const sort: AuditQuery['sort'] =
    sortItems.length > 0 ? sortItems.map((item) => [item.replace(/^[-+]/, '') as FieldName, item.startsWith('-') ? -1 : 1]) : [['date', -1]];

  const selectItems = fieldList(raw, '$select', FIELD_NAMES) as FieldName[];
  const select = selectItems.length > 0 ? [...new Set<FieldName>(['_id', ...selectItems])] : null;

  const filter = andAll(conditions);
  return {
    query: { filter, sort, skip, limit, select },
    countOnly: countText === 'true',
    page: Math.floor(skip / limit) + 1,
  };
}
