/**
 * Who may use the query routes. hapi semantics, which rest-hapi users know: the caller needs
 * at least one of the plain scopes (when any are listed), every `+scope`, and no `!scope`.
 * Scopes come from the request's auth (`getAuth(req).scopes`, or `req.auth` at `scopeKey`), as
 * a space-separated string (OAuth's `scope` claim, a single role) or an array (roles).
 */
import type { ScopeRule } from '../options';

export function scopesOf(claim: unknown): string[] {
  if (typeof claim === 'string') return claim.split(/\s+/).filter(Boolean);
  if (Array.isArray(claim)) return claim.filter((item): item is string => typeof item === 'string');
  return [];
}

export function scopeAllows(rule: ScopeRule, granted: readonly string[]): boolean {
  const has = new Set(granted);
  if (rule.anyOf.length > 0 && !rule.anyOf.some((scope) => has.has(scope))) return false;
  if (!rule.allOf.every((scope) => has.has(scope))) return false;
  return !rule.noneOf.some((scope) => has.has(scope));
}

export function describeRule(rule: ScopeRule): string {
  const parts: string[] = [];
  if (rule.anyOf.length > 0) parts.push(`one of [${rule.anyOf.join(', ')}]`);
  if (rule.allOf.length > 0) parts.push(`all of [${rule.allOf.join(', ')}]`);
  if (rule.noneOf.length > 0) parts.push(`none of [${rule.noneOf.join(', ')}]`);
  return parts.join(' and ');
}
