/**
 * The stats route's service, framework-free: query string in, plain answer out. Counts entries
 * per time bucket and per value of one field, errors apart, over the list route's filters. The
 * store does the counting where the entries are (StoreStats); this module validates, bounds the
 * number of buckets, and fills in the empty buckets so a chart needs no gaps logic.
 */
import ms from 'ms';
import type { FieldName } from '../entry';
import { AuditLogQueryError } from '../errors';
import { didYouMean } from '../options';
import type { AuditFilter, AuditStore, StatsCounts } from '../stores/types';
import { andAll, checkParameterNames, integer, parseFilterConditions, single } from './list-query';
import { STATS_CONTROLS, STATS_PARAMETERS, names } from './parameters';

/** Buckets one answer may hold: 1000 points is past what any chart draws usefully, and bounds the work. */
export const MAX_BUCKETS = 1000;
/** The interval chosen when none is given: the smallest of these giving at most AUTO_BUCKETS buckets. */
const AUTO_INTERVALS = ['1m', '5m', '15m', '1h', '6h', '1d', '7d'];
const AUTO_BUCKETS = 100;
const DEFAULT_SPAN = 24 * 3600_000;
const DEFAULT_TOP = 10;
const MAX_TOP = 100;
export const GROUPABLE = (STATS_CONTROLS.find((parameter) => parameter.name === 'groupBy')!.schema.enum as FieldName[]).slice();
const STATS_NAMES = names(STATS_PARAMETERS);

export interface StatsRequest {
  filter: AuditFilter;
  from: Date;
  to: Date;
  /** As given (or chosen), like '1h'. */
  interval: string;
  intervalMs: number;
  groupBy: FieldName | null;
  top: number;
}

export interface StatsAnswer extends StatsCounts {
  from: string;
  to: string;
  interval: string;
  intervalMs: number;
  groupBy: FieldName | null;
  /** Every bucket from the one holding `from` to the one holding `to`, empty ones included. */
  buckets: Array<{ start: string; end: string } & StatsCounts>;
  /** The `top` most frequent values of groupBy, most frequent first; [] without groupBy. */
  groups: Array<{ key: string | number | boolean | null } & StatsCounts>;
  /** Distinct values of groupBy in all; more than groups.length when some were left out. */
  groupsTotal: number;
}

/** The store has no `stats` method (a custom store): the route answers 501. */
export class StatsUnsupportedError extends Error {
  constructor() {
    super('This audit store cannot compute stats: it has no stats() method (memoryStore, fileStore and mongoStore have one).');
    this.name = 'StatsUnsupportedError';
  }
}

function bucketCount(from: Date, to: Date, intervalMs: number): number {
  return Math.floor(to.getTime() / intervalMs) - Math.floor(from.getTime() / intervalMs) + 1;
}

function autoInterval(from: Date, to: Date): string {
  for (const interval of AUTO_INTERVALS) if (bucketCount(from, to, ms(interval as ms.StringValue)) <= AUTO_BUCKETS) return interval;
  const week = ms('7d');
  return `${Math.ceil((to.getTime() - from.getTime()) / week / (AUTO_BUCKETS - 1))}w`;
}

function parseInterval(text: string, from: Date, to: Date): number {
  if (!/^[1-9]\d{0,8}(s|m|h|d|w)$/.test(text)) {
    throw new AuditLogQueryError('interval', `interval must be a whole number of s, m, h, d or w, like 15m, 1h or 1d; got '${text.slice(0, 32)}'.`);
  }
  const intervalMs = ms(text as ms.StringValue);
  const buckets = bucketCount(from, to, intervalMs);
  if (buckets > MAX_BUCKETS) {
    const wider = AUTO_INTERVALS.find((interval) => bucketCount(from, to, ms(interval as ms.StringValue)) <= MAX_BUCKETS);
    throw new AuditLogQueryError(
      'interval',
      `interval=${text} makes ${buckets} buckets between from and to; at most ${MAX_BUCKETS} are allowed: use a wider interval${wider ? ` (${wider} or more)` : ''} or a shorter range.`,
    );
  }
  return intervalMs;
}

export function parseStatsQuery(raw: Record<string, unknown>, now = Date.now()): StatsRequest {
  checkParameterNames(raw, STATS_NAMES);
  const { conditions, from: givenFrom, to: givenTo } = parseFilterConditions(raw, now, { dates: false });
  const to = givenTo ?? new Date(now);
  // Buckets are counted from 1970: nothing is recorded before it, and it keeps bucket starts non-negative.
  const from = new Date(Math.max(0, (givenFrom ?? new Date(to.getTime() - DEFAULT_SPAN)).getTime()));
  if (from > to) throw new AuditLogQueryError('from', `from (${from.toISOString()}) is after to (${to.toISOString()}).`);

  const given = single(raw, 'interval');
  const interval = given ?? autoInterval(from, to);
  const intervalMs = parseInterval(interval, from, to);

  const groupText = single(raw, 'groupBy');
  if (groupText !== undefined && !GROUPABLE.includes(groupText as FieldName)) {
    throw new AuditLogQueryError(
      'groupBy',
      `groupBy must be one of ${GROUPABLE.join(', ')}; got '${groupText.slice(0, 64)}'.${didYouMean(groupText, GROUPABLE)}`,
    );
  }
  const top = integer(raw, 'top', 1, MAX_TOP) ?? DEFAULT_TOP;
  return {
    filter: andAll([...conditions, { date: { $gte: from, $lte: to } }]),
    from,
    to,
    interval,
    intervalMs,
    groupBy: (groupText as FieldName | undefined) ?? null,
    top,
  };
}

/** Runs the request on the store and shapes the answer; `filter` may be narrowed by the caller first (a tenant, say). */
export async function computeStats(store: AuditStore, request: StatsRequest): Promise<StatsAnswer> {
  if (typeof store.stats !== 'function') throw new StatsUnsupportedError();
  const { intervalMs } = request;
  const counted = await store.stats({ filter: request.filter, intervalMs, groupBy: request.groupBy, top: request.top });
  const byStart = new Map(counted.buckets.map((bucket) => [bucket.start, bucket]));
  const first = Math.floor(request.from.getTime() / intervalMs) * intervalMs;
  const last = Math.floor(request.to.getTime() / intervalMs) * intervalMs;
  const buckets: StatsAnswer['buckets'] = [];
  let count = 0;
  let errors = 0;
  for (let start = first; start <= last; start += intervalMs) {
    const found = byStart.get(start);
    const counts = { count: found?.count ?? 0, errors: found?.errors ?? 0 };
    count += counts.count;
    errors += counts.errors;
    buckets.push({ start: new Date(start).toISOString(), end: new Date(start + intervalMs).toISOString(), ...counts });
  }
  return {
    from: request.from.toISOString(),
    to: request.to.toISOString(),
    interval: request.interval,
    intervalMs,
    groupBy: request.groupBy,
    count,
    errors,
    buckets,
    groups: counted.groups.map(({ key, count, errors }) => ({ key, count, errors })),
    groupsTotal: counted.groupsTotal,
  };
}
