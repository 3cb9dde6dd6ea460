/**
 * The audit context of an Express request (events/request-context.ts holds the logic): where
 * Express keeps the user, ip, tenant and headers, and the X-Request-Id echo of a request the
 * recorder does not record.
 */
import type { Request } from 'express';
import { requestIdFrom } from '../capture/correlation';
import type { AuditContext, EventSink } from '../events/context';
import { existingContext, newRequestContext, recordedContext as recordedContextOf, type RequestReader } from '../events/request-context';
import { recordingRequestId } from './recordings';
import { tenantOf, userOf } from './request-user';

const EXPRESS_READER: RequestReader<Request> = {
  user: (req, config) => userOf(req, config),
  ip: (req) => req.ip,
  tenant: (req, tenants) => tenantOf(req, tenants),
  header: (req, name) => req.headers[name],
};

/** The context of a request the recorder records; see events/request-context.ts. */
export function recordedContext(req: Request, sink: EventSink, requestId: string): AuditContext | null {
  return recordedContextOf(req, sink, requestId, EXPRESS_READER);
}

/**
 * The context of any request given to `record(req, …)`. A request the recorder skipped (a GET)
 * gets one on first use, with the incoming X-Request-Id or a new one, echoed in the response
 * so the client can find the event.
 */
export function contextOfRequest(req: Request, sink: EventSink): AuditContext {
  const existing = existingContext(req);
  if (existing) return existing;
  const requestId = recordingRequestId(req.res) ?? requestIdFrom(req.headers[sink.config.requestIdHeader]);
  const context = newRequestContext(req, sink, requestId, EXPRESS_READER);
  const res = req.res;
  if (res && !res.headersSent && res.getHeader('X-Request-Id') === undefined) res.setHeader('X-Request-Id', requestId);
  return context;
}
