/**
 * The audit context of a Hapi request (events/request-context.ts holds the logic): where Hapi
 * keeps the user, the client address, the tenant and the headers.
 */
import type { Request } from '@hapi/hapi';
import { requestIdFrom } from '../capture/correlation';
import type { AuditContext, EventSink } from '../events/context';
import { existingContext, newRequestContext, recordedContext as recordedContextOf, type RequestReader } from '../events/request-context';
import { tenantOf, userOf } from './request-auth';

export const HAPI_READER: RequestReader<Request> = {
  user: (request, config) => userOf(request, config),
  ip: (request) => request.info?.remoteAddress,
  tenant: (request, tenants) => tenantOf(request, tenants),
  header: (request, name) => request.raw?.req.headers[name],
};

/** The context of a request the recorder records; see events/request-context.ts. */
export function recordedContext(request: Request, sink: EventSink, requestId: string): AuditContext | null {
  return recordedContextOf(request, sink, requestId, HAPI_READER);
}

/** The context of any request given to `record(request, …)`: the recorder's, else a new one with the incoming request id. */
export function contextOfRequest(request: Request, sink: EventSink): AuditContext {
  return existingContext(request) ?? newRequestContext(request, sink, requestIdFrom(request.headers?.[sink.config.requestIdHeader]), HAPI_READER);
}
