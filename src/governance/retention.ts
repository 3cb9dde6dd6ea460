/**
 * Retention rules: how long an entry is kept, by action and/or collection, first match wins,
 * else the `ttl` option. The expiry is stamped on the entry when it is written (`expireAt`), so
 * MongoDB's TTL index (`expireAt`, `expireAfterSeconds: 0`) and the embedded stores' sweeps
 * delete each entry on its own date. Checked once at `auditLog()`.
 */
import type { AuditEntry } from '../entry';
import { AuditLogConfigError, show } from '../errors';
import { parseTtl } from '../ttl';

/** One rule as the app writes it: `{ action: 'Login', ttl: '30d' }`, `{ collectionName: 'payments', ttl: '7y' }`. */
export interface RetentionRuleOptions {
  /** The entry's action (exact). */
  action?: string;
  /** The entry's collection (exact). */
  collectionName?: string;
  /** Read like the `ttl` option; 0 keeps matching entries forever. */
  ttl: number | string;
}

export interface RetentionRule {
  action: string | null;
  collectionName: string | null;
  /** null: kept forever. */
  ttlSeconds: number | null;
}

/** The actions the package itself records, which a rule may name even under strictActions. */
export const BUILT_IN_ACTIONS = ['Create', 'Update', 'Delete', 'Add', 'Remove', 'Export', 'PlaceHold', 'ReleaseHold'];
const RULE_KEYS = ['action', 'collectionName', 'ttl'];

function fail(option: string, message: string): never {
  throw new AuditLogConfigError('EAUDIT_RETENTION', option, message);
}

function describe(rule: RetentionRule): string {
  return [rule.action !== null && `action ${show(rule.action)}`, rule.collectionName !== null && `collectionName ${show(rule.collectionName)}`]
    .filter(Boolean)
    .join(' and ');
}

/** True when every entry `later` matches is matched by `earlier` first: `later` can never apply. */
function covers(earlier: RetentionRule, later: RetentionRule): boolean {
  return (earlier.action === null || earlier.action === later.action) && (earlier.collectionName === null || earlier.collectionName === later.collectionName);
}

/** Validates the `retention` option. `actions`/`strictActions` tell which actions can occur at all; `didYouMean` is options.ts's (passed in: no import cycle). */
export function parseRetention(
  value: unknown,
  known: { actions: ReadonlyMap<string, unknown>; strictActions: boolean; didYouMean(name: string, candidates: readonly string[]): string },
): RetentionRule[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    fail(
      'retention',
      `retention must be an array of rules like [{ action: 'Login', ttl: '30d' }, { collectionName: 'payments', ttl: '7y' }]; got ${show(value)}.`,
    );
  }
  const rules: RetentionRule[] = [];
  value.forEach((raw: unknown, i) => {
    const at = `retention[${i}]`;
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
      fail(at, `${at} must be an object like { action: 'Login', ttl: '30d' }; got ${show(raw)}.`);
    for (const key of Object.keys(raw)) {
      if (!RULE_KEYS.includes(key))
        fail(`${at}.${key}`, `${at} has unknown field '${key}'.${known.didYouMean(key, RULE_KEYS)} A rule has: ${RULE_KEYS.join(', ')}.`);
    }
    const { action, collectionName, ttl } = raw as Record<string, unknown>;
    for (const [name, field] of [
      ['action', action],
      ['collectionName', collectionName],
    ] as const) {
      if (field !== undefined && (typeof field !== 'string' || field === ''))
        fail(`${at}.${name}`, `${at}.${name} must be a non-empty string; got ${show(field)}.`);
    }
    if (action === undefined && collectionName === undefined) {
      fail(at, `${at} names neither an action nor a collectionName, so it would match every entry; set the default with the ttl option instead.`);
    }
    if (ttl === undefined) fail(`${at}.ttl`, `${at} needs a ttl, like '30d' or 0 to keep matching entries forever.`);
    const rule: RetentionRule = {
      action: (action as string | undefined) ?? null,
      collectionName: (collectionName as string | undefined) ?? null,
      ttlSeconds: parseTtl(ttl, `${at}.ttl`),
    };
    if (rule.action !== null && known.strictActions && !known.actions.has(rule.action) && !BUILT_IN_ACTIONS.includes(rule.action)) {
      fail(
        `${at}.action`,
        `${at} names the action ${show(rule.action)}, which strictActions never lets be recorded, so the rule can never match; register it in actions or fix the name (registered: ${[...known.actions.keys()].join(', ') || 'none'}; built in: ${BUILT_IN_ACTIONS.join(', ')}).`,
      );
    }
    const shadow = rules.findIndex((earlier) => covers(earlier, rule));
    if (shadow !== -1) {
      fail(
        at,
        `${at} (${describe(rule)}) can never match: retention[${shadow}] (${describe(rules[shadow]!)}) comes first and matches every entry it would. Put the narrower rule first.`,
      );
    }
    rules.push(rule);
  });
  return rules;
}

/** The index of the first rule the entry matches, or -1 (the default `ttl` applies). */
export function ruleIndexFor(rules: readonly RetentionRule[], entry: Pick<AuditEntry, 'action' | 'collectionName'>): number {
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i]!;
    if ((rule.action === null || rule.action === entry.action) && (rule.collectionName === null || rule.collectionName === entry.collectionName)) return i;
  }
  return -1;
}

/**
 * When the entry expires: a Date, null (kept forever by a rule with ttl 0), or undefined (no
 * rule matched and no `ttl` is set: the field stays absent, so a `ttl` set later applies to it).
 */
export function expiryOf(
  rules: readonly RetentionRule[],
  ttlSeconds: number | null,
  entry: Pick<AuditEntry, 'date' | 'action' | 'collectionName'>,
): Date | null | undefined {
  const index = ruleIndexFor(rules, entry);
  const seconds = index === -1 ? ttlSeconds : rules[index]!.ttlSeconds;
  if (seconds === null) return index === -1 ? undefined : null;
  return new Date(entry.date.getTime() + seconds * 1000);
}

/** The filter that selects the entries a rule governs (matched by it and by no earlier rule); for `rules.length`, the default's. */
export function ruleFilter(rules: readonly RetentionRule[], index: number): Record<string, unknown> {
  const own = (rule: RetentionRule): Record<string, unknown> => ({
    ...(rule.action !== null && { action: rule.action }),
    ...(rule.collectionName !== null && { collectionName: rule.collectionName }),
  });
  const earlier = rules.slice(0, index).map(own);
  const mine = index < rules.length ? [own(rules[index]!)] : [];
  const parts = [...mine, ...(earlier.length > 0 ? [{ $nor: earlier }] : [])];
  return parts.length === 0 ? {} : parts.length === 1 ? parts[0]! : { $and: parts };
}

/**
 * Verification (src/integrity) calls a gap expiry only at the start of a chain, by the one `ttl`
 * its checkpoints state. A rule that removes entries sooner than that leaves holes in the middle
 * of the chain, which verify reports as missing. Returns the message to warn with, or null.
 */
export function integrityConflict(rules: readonly RetentionRule[], ttlSeconds: number | null): string | null {
  const sooner = rules.filter((rule) => rule.ttlSeconds !== null && (ttlSeconds === null || rule.ttlSeconds < ttlSeconds));
  if (sooner.length === 0) return null;
  return `retention rules that expire entries before ttl (${sooner.map((rule) => `${rule.action ?? rule.collectionName}: ${rule.ttlSeconds} s`).join(', ')}) leave gaps in the integrity chain that GET /verify reports as missing entries, not expiry; with integrity on, keep every rule at or above ttl.`;
}
