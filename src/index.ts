/**
 * express-audit-log: the Express middleware `auditLog()`, and everything the package exports that names no
 * framework (src/public-core.ts; `express-audit-log/fastify` and `express-audit-log/hapi` export the same beside their plugins).
 */
export { auditLog, type AuditLogMiddleware, type AuditLogOptions, type AuditLogStats } from './express/audit-log';
export * from './public-core';
