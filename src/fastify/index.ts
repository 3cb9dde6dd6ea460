/**
 * express-audit-log/fastify: the Fastify plugin. `import auditLogFastify from 'express-audit-log/fastify'`.
 */
import { auditLogFastify } from './plugin';

export { auditLogFastify, type AuditLogFastifyOptions, type FastifyAuditLog } from './plugin';
export default auditLogFastify;
