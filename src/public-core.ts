/**
 * What every entry point exports: the part of the public surface that names no framework (stores,
 * errors, the entry's fields, events, audited functions, mongoose diffs, delivery signatures, types).
 * `express-audit-log` adds Express's `auditLog()`, `express-audit-log/fastify` and
 * `express-audit-log/hapi` their plugins; none of these re-exports loads a framework, so a Fastify or
 * Hapi app runs without Express installed.
 */
export { verifyDeliverySignature, type VerifyDeliveryOptions } from './delivery/signature';
export type { DeliverOptions, DeliveryFormat } from './delivery/options';
export type { AuditAnnotation, EncryptionOptions, IpAddressMode, Logger } from './options';
export type { ErasureRequest, ErasureResult } from './encryption/erasure';
export type { DataKeyRecord, DataKeyQuery } from './encryption/data-key';
export type { AuditStats } from './pipeline/writer';
export { fileStore, type EmbeddedStoreOptions, type FileStoreOptions } from './stores/file-store';
export { memoryStore, type MemoryStoreOptions } from './stores/memory-store';
export { mongoStore, type MongoStoreOptions, type MongooseConnectionLike } from './stores/mongo-store';
export type { MongoReadPreference, MongoReadPreferenceMode, MongoReadPreferenceObject, MongoWriteConcern } from './stores/mongo-deployment';
export type { AuditStore, AuditQuery, AuditFilter, StoreInitConfig, AuditHold, HoldMethods, ExpiryOf } from './stores/types';
export type { RetentionRuleOptions } from './governance/retention';
export { FIELDS, ASSOCIATION_TYPES, type AuditEntry, type AuditChange, type AssociationType, type FieldName, type JsonValue } from './entry';
export { DEFAULT_REDACT_KEYS, REDACTED } from './capture/redact';
export { AuditLogConfigError, AuditLogStoreError, AuditLogQueryError } from './errors';
export { audited, Audited, type AuditedOptions, type AuditedWith } from './events/audited';
export type { AuditEvent } from './events/record';
export type { AuditContextInit } from './events/handle';
export type { ActionDefinition } from './events/actions';
export { auditChanges, type AuditChangesOptions, type MongooseSchemaLike } from './mongoose/audit-changes';
