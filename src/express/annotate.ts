/**
 * `auditLog.annotate(req, …)` for Express: the framework-free annotations (capture/annotate.ts),
 * typed with Express's request.
 */
import type { Request } from 'express';
import { annotate as annotateRequest } from '../capture/annotate';
import type { AuditAnnotation } from '../options';

export { annotationOf } from '../capture/annotate';

/** Adds to what will be recorded for this request. Throws on unknown fields: a typo should not pass silently. */
export const annotate: (req: Request, annotation: AuditAnnotation) => void = annotateRequest;
