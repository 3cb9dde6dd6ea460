/** The store used when `auditLog()` is given none: MongoDB on mongoose's default connection. */
import { mongoStore } from './mongo-store';
import type { AuditStore } from './types';

export function defaultStore(): AuditStore {
  return mongoStore();
}
