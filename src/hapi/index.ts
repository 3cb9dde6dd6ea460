/**
 * express-audit-log/hapi: the Hapi plugin, and everything else the package exports that names no
 * framework (stores, errors, types: src/public-core.ts), so that a Hapi app never imports the main
 * entry, which loads Express. `import { auditLogHapi, fileStore } from 'express-audit-log/hapi'`.
 */
export { auditLogHapi, PLUGIN_NAME, type AuditLogHapiHandle, type AuditLogHapiOptions } from './plugin';
export type { AuditLogStats } from '../core/audit-core';
export * from '../public-core';
