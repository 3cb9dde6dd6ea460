/**
 * What `GET {basePath}/retention` answers, framework-free: the rules in force in order, then the
 * default `ttl`, each with how many stored entries it governs (matched by it and by no earlier
 * rule), how many of those a legal hold keeps, and when the first of them expires. Read through
 * the store's count and find, so any store can answer it.
 */
import type { AuditStore } from '../stores/types';
import { ruleFilter, type RetentionRule } from './retention';

export interface RetentionLine {
  /** null on the default line, and on a rule that does not name it. */
  action: string | null;
  collectionName: string | null;
  /** Seconds; null: kept forever. */
  ttl: number | null;
  /** True for the last line: entries no rule matches, which follow the `ttl` option. */
  default: boolean;
  entries: number;
  held: number;
  /** The earliest expiry among them; null when none of them expires. */
  oldestExpiry: Date | null;
}

export interface RetentionReport {
  rules: RetentionLine[];
}

export async function retentionReport(store: AuditStore, rules: readonly RetentionRule[], ttlSeconds: number | null): Promise<RetentionReport> {
  const lines: RetentionLine[] = [];
  for (let index = 0; index <= rules.length; index++) {
    const rule = rules[index];
    const filter = ruleFilter(rules, index);
    const within = (extra: Record<string, unknown>) => (Object.keys(filter).length === 0 ? extra : { $and: [filter, extra] });
    const [entries, held, first] = await Promise.all([
      store.count(filter),
      store.count(within({ holds: { $exists: true } })),
      // $gt a date: null (kept, held) and absent (no ttl) never compare greater.
      store.find({ filter: within({ expireAt: { $gt: new Date(0) } }), sort: [['expireAt', 1]], skip: 0, limit: 1, select: ['expireAt'] }),
    ]);
    lines.push({
      action: rule?.action ?? null,
      collectionName: rule?.collectionName ?? null,
      ttl: rule ? rule.ttlSeconds : ttlSeconds,
      default: rule === undefined,
      entries,
      held,
      oldestExpiry: (first.docs[0]?.expireAt as Date | undefined) ?? null,
    });
  }
  return { rules: lines };
}
