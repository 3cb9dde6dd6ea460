/**
 * express-audit-log/fastify: the Fastify plugin, and everything else the package exports that names
 * no framework (stores, errors, types: src/public-core.ts), so that a Fastify app never imports the
 * main entry, which loads Express. `import { auditLogFastify, fileStore } from 'express-audit-log/fastify'`.
 */
import { auditLogFastify } from './plugin';

export { auditLogFastify, type AuditLogFastifyOptions, type FastifyAuditLog } from './plugin';
export type { AuditLogStats } from '../core/audit-core';
export * from '../public-core';
export default auditLogFastify;
