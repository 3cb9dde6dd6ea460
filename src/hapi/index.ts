/**
 * `express-audit-log/hapi`: the Hapi adapter's public surface.
 */
export { auditLogHapi, PLUGIN_NAME, type AuditLogHapiHandle, type AuditLogHapiOptions } from './plugin';
export type { AuditLogStats } from '../core/audit-core';
