/**
 * The per-request annotation API: a route handler refines or replaces what the middleware
 * derived (`auditLog.annotate(req, { action: 'Approve', notes: '...' })`) or skips the entry
 * (`{ skip: true }`). Annotations merge, later calls winning field by field. Keyed by the
 * framework's request object, whichever it is; express/annotate.ts types it for Express.
 */
import { ASSOCIATION_TYPES } from '../entry';
import { AuditLogConfigError, show } from '../errors';
import type { AuditAnnotation } from '../options';

// A WeakMap rather than a property on req: reading or adding properties on request objects is slow (see recorder.ts).
const ANNOTATIONS = new WeakMap<object, AuditAnnotation>();
const KEYS: ReadonlyArray<keyof AuditAnnotation> = ['skip', 'action', 'collectionName', 'childCollectionName', 'associationType', 'documents', 'notes', 'user'];

function check(annotation: AuditAnnotation): void {
  for (const key of Object.keys(annotation)) {
    if (!(KEYS as readonly string[]).includes(key)) {
      throw new AuditLogConfigError('EAUDIT_ANNOTATION', key, `annotate() got unknown field '${key}'; accepted: ${KEYS.join(', ')}.`);
    }
  }
  const type = annotation.associationType;
  if (type !== undefined && type !== null && !(ASSOCIATION_TYPES as readonly string[]).includes(type)) {
    throw new AuditLogConfigError(
      'EAUDIT_ANNOTATION',
      'associationType',
      `annotate() associationType must be one of ${ASSOCIATION_TYPES.join(', ')} or null; got ${show(type)}.`,
    );
  }
  if (annotation.documents != null && !Array.isArray(annotation.documents)) {
    throw new AuditLogConfigError('EAUDIT_ANNOTATION', 'documents', `annotate() documents must be an array of ids or null; got ${show(annotation.documents)}.`);
  }
}

/** Adds to what will be recorded for this request. Throws on unknown fields: a typo should not pass silently. */
export function annotate(req: object, annotation: AuditAnnotation): void {
  if (annotation === null || typeof annotation !== 'object') {
    throw new AuditLogConfigError(
      'EAUDIT_ANNOTATION',
      'annotation',
      `annotate(req, annotation) needs an object like { notes: '...' }; got ${show(annotation)}.`,
    );
  }
  check(annotation);
  ANNOTATIONS.set(req, { ...ANNOTATIONS.get(req), ...annotation });
}

export function annotationOf(req: object): AuditAnnotation | undefined {
  return ANNOTATIONS.get(req);
}
