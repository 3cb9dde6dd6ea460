/**
 * express-audit-log/fastify: the Fastify plugin, and what a Fastify app needs beside it (stores,
 * errors, types), so that it never imports the main entry, whose types name Express.
 * `import { auditLogFastify, fileStore } from 'express-audit-log/fastify'`.
 */
import { auditLogFastify } from './plugin';

export { auditLogFastify, type AuditLogFastifyOptions, type FastifyAuditLog } from './plugin';
export type { AuditLogStats } from '../core/audit-core';
export { fileStore, type EmbeddedStoreOptions, type FileStoreOptions } from '../stores/file-store';
export { memoryStore, type MemoryStoreOptions } from '../stores/memory-store';
export { mongoStore, type MongoStoreOptions, type MongooseConnectionLike } from '../stores/mongo-store';
export type { AuditStore, AuditQuery, AuditFilter } from '../stores/types';
export { FIELDS, ASSOCIATION_TYPES, type AuditEntry, type AssociationType } from '../entry';
export { AuditLogConfigError, AuditLogStoreError, AuditLogQueryError } from '../errors';
export { audited, type AuditedOptions, type AuditedWith } from '../events/audited';
export type { AuditEvent } from '../events/record';
export type { AuditAnnotation } from '../options';
export default auditLogFastify;
