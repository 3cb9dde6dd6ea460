/**
 * express-audit-log: the public surface. Everything a user imports comes from here, nothing else.
 */
export { auditLog, type AuditLogMiddleware, type AuditLogOptions, type AuditLogStats } from './express/audit-log';
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
