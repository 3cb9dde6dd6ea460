/**
 * Which entries a caller of the query routes may see when the log has tenants (`getTenant`).
 * Framework-free, so that every route of every adapter asks the same question the same way:
 * an adapter reads the caller's tenant and scopes, calls `tenantAccess`, answers 403 when it is
 * denied, and ANDs `filter` into whatever the route reads (list, `$count`, history, export,
 * stats, holds). A filter ANDed with the client's own cannot be widened by it: `$or`, `$where`,
 * `$term` and `?tenant=` only ever narrow inside the caller's tenant.
 */
import { idString } from '../capture/documents';
import type { AuditEntry } from '../entry';
import type { TenantConfig } from '../options';
import type { AuditFilter } from '../stores/types';
import { describeRule, scopeAllows } from './scope';

/** What an adapter knows of the caller: the tenant `getTenant` returned, and the auth's scopes (`scopesOf`), null when unauthenticated (a public route). */
export interface TenantCaller {
  tenant: unknown;
  scopes: readonly string[] | null;
}

export type TenantAccess =
  /** `filter` null: every entry (no tenants configured, or a `tenantScope` holder). */
  { allowed: true; crossTenant: boolean; filter: AuditFilter | null; tenant: string | null } | { allowed: false; message: string };

const EVERYTHING: TenantAccess = { allowed: true, crossTenant: true, filter: null, tenant: null };

/** A tenant id as stored: a non-empty string up to 256 characters, or a number; anything else is no tenant (null), never a cut-down id another tenant could share. */
export function tenantString(value: unknown): string | null {
  return idString(value);
}

/**
 * The entries the caller may read. A caller without a tenant and without `tenantScope` is
 * denied (403) rather than shown an empty log: an empty answer would hide a misconfigured
 * `getTenant` and says nothing more about other tenants than a 403 does.
 */
export function tenantAccess(caller: TenantCaller, tenants: TenantConfig | null): TenantAccess {
  if (!tenants) return EVERYTHING;
  // Unauthenticated callers never read across tenants, even when the rule is only `!x`.
  if (tenants.scope && caller.scopes !== null && scopeAllows(tenants.scope, caller.scopes)) return EVERYTHING;
  const tenant = tenantString(caller.tenant);
  if (tenant === null) {
    const across = tenants.scope ? `, or hold ${describeRule(tenants.scope)} to read across tenants` : '';
    return {
      allowed: false,
      message: `No tenant: the audit log shows each caller its tenant's entries, and getTenant(req) returned none for this request${across}.`,
    };
  }
  return { allowed: true, crossTenant: false, filter: { tenant }, tenant };
}

/** The route's own filter (possibly empty) restricted to what the caller may see. */
export function restrictFilter(filter: AuditFilter, access: TenantAccess & { allowed: true }): AuditFilter {
  if (!access.filter) return filter;
  return Object.keys(filter).length === 0 ? access.filter : { $and: [access.filter, filter] };
}

/** Whether one entry (read by id) is the caller's to see: another tenant's entry must look exactly like a missing one. */
export function entryVisible(entry: Pick<AuditEntry, 'tenant'>, access: TenantAccess & { allowed: true }): boolean {
  return access.filter === null || entry.tenant === access.tenant;
}
