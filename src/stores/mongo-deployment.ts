/**
 * The write concern of audit writes and the read preference of the query routes' reads, for
 * `mongoStore()`. Both are parsed once here and then passed per operation, so the app's own
 * connection keeps its own defaults: the audit log never sets them on the connection or the db.
 */
import { AuditLogConfigError, show } from '../errors';
import { didYouMean } from '../options';

/** How many nodes acknowledge an audit write before it counts as written. */
export interface MongoWriteConcern {
  /** A node count (1 or more), `'majority'`, or a custom write-concern tag name. Defaults to `'majority'`. */
  w?: number | string;
  /** Wait for the on-disk journal on the acknowledging nodes. Defaults to the server's setting. */
  j?: boolean;
  /** How long the server waits for the acknowledgements, in ms. Defaults to none (the server's default). */
  wtimeoutMS?: number;
}

export const READ_PREFERENCE_MODES = ['primary', 'primaryPreferred', 'secondary', 'secondaryPreferred', 'nearest'] as const;
export type MongoReadPreferenceMode = (typeof READ_PREFERENCE_MODES)[number];

/** A read preference with tag sets and a staleness bound, as in the MongoDB driver. */
export interface MongoReadPreferenceObject {
  mode: MongoReadPreferenceMode;
  /** Tag sets, tried in order, e.g. `[{ dc: 'east' }, {}]`. Not allowed with `'primary'`. */
  tags?: Array<Record<string, string>>;
  /** Skip secondaries lagging more than this, in seconds (90 or more). Not allowed with `'primary'`. */
  maxStalenessSeconds?: number;
}

export type MongoReadPreference = MongoReadPreferenceMode | MongoReadPreferenceObject;

export interface ResolvedWriteConcern {
  w: number | string;
  j?: boolean;
  wtimeoutMS?: number;
}

export interface ResolvedReadPreference {
  mode: MongoReadPreferenceMode;
  tags?: Array<Record<string, string>>;
  maxStalenessSeconds?: number;
}

function fail(option: string, message: string): never {
  throw new AuditLogConfigError('EAUDIT_OPTION', option, `mongoStore ${message}`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export function parseWriteConcern(value: unknown): ResolvedWriteConcern {
  if (value === undefined) return { w: 'majority' };
  if (!isObject(value)) fail('writeConcern', `writeConcern must be an object like { w: 'majority', j: true }; got ${show(value)}.`);
  const known = ['w', 'j', 'wtimeoutMS'];
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) fail(`writeConcern.${key}`, `writeConcern has no option '${key}'.${didYouMean(key, known)} Known: ${known.join(', ')}.`);
  }
  const { w = 'majority', j, wtimeoutMS } = value;
  if (w === 0) {
    // An unacknowledged write cannot fail: the writer would count a lost entry as written.
    fail(
      'writeConcern.w',
      'writeConcern.w must acknowledge audit writes: w: 0 would count a lost entry as written. Use w: 1 or more, or the default w: majority.',
    );
  }
  if (!(typeof w === 'string' && w.trim() !== '') && !(typeof w === 'number' && Number.isInteger(w) && w >= 1 && w <= 50)) {
    fail('writeConcern.w', `writeConcern.w must be 'majority', a number of nodes from 1 to 50, or a write-concern tag name; got ${show(w)}.`);
  }
  if (j !== undefined && typeof j !== 'boolean') fail('writeConcern.j', `writeConcern.j must be true or false; got ${show(j)}.`);
  if (wtimeoutMS !== undefined && (typeof wtimeoutMS !== 'number' || !Number.isInteger(wtimeoutMS) || wtimeoutMS < 1 || wtimeoutMS > 2_147_483_647)) {
    fail('writeConcern.wtimeoutMS', `writeConcern.wtimeoutMS must be a whole number of ms from 1 to 2147483647, like 5000; got ${show(wtimeoutMS)}.`);
  }
  return { w: w as number | string, ...(j === undefined ? {} : { j }), ...(wtimeoutMS === undefined ? {} : { wtimeoutMS: wtimeoutMS as number }) };
}

function parseMode(value: unknown, option: string): MongoReadPreferenceMode {
  if (typeof value === 'string' && (READ_PREFERENCE_MODES as readonly string[]).includes(value)) return value as MongoReadPreferenceMode;
  const hint = typeof value === 'string' ? didYouMean(value, READ_PREFERENCE_MODES) : '';
  return fail(option, `${option} must be one of ${READ_PREFERENCE_MODES.map((mode) => `'${mode}'`).join(', ')}; got ${show(value)}.${hint}`);
}

export function parseReadPreference(value: unknown): ResolvedReadPreference {
  if (value === undefined) return { mode: 'primary' };
  if (!isObject(value)) return { mode: parseMode(value, 'readPreference') };
  const known = ['mode', 'tags', 'maxStalenessSeconds'];
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) fail(`readPreference.${key}`, `readPreference has no option '${key}'.${didYouMean(key, known)} Known: ${known.join(', ')}.`);
  }
  const mode = parseMode(value.mode, 'readPreference.mode');
  const { tags, maxStalenessSeconds } = value;
  if (tags !== undefined) {
    const valid = Array.isArray(tags) && tags.every((set) => isObject(set) && Object.values(set).every((tag) => typeof tag === 'string'));
    if (!valid) fail('readPreference.tags', `readPreference.tags must be an array of tag sets like [{ dc: 'east' }, {}]; got ${show(tags)}.`);
  }
  if (maxStalenessSeconds !== undefined && (typeof maxStalenessSeconds !== 'number' || !Number.isInteger(maxStalenessSeconds) || maxStalenessSeconds < 90)) {
    fail(
      'readPreference.maxStalenessSeconds',
      `readPreference.maxStalenessSeconds must be a whole number of seconds, 90 or more (MongoDB's minimum); got ${show(maxStalenessSeconds)}.`,
    );
  }
  if (mode === 'primary' && (tags !== undefined || maxStalenessSeconds !== undefined)) {
    fail(
      'readPreference',
      "readPreference 'primary' takes no tags or maxStalenessSeconds: reads go to the primary whatever its tags. Use 'primaryPreferred' or a secondary mode.",
    );
  }
  return {
    mode,
    ...(tags === undefined ? {} : { tags: tags as Array<Record<string, string>> }),
    ...(maxStalenessSeconds === undefined ? {} : { maxStalenessSeconds: maxStalenessSeconds as number }),
  };
}
