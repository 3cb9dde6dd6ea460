/**
 * The audit context of a Fastify request (events/request-context.ts holds the logic): where
 * Fastify keeps the user, ip, tenant and headers, and the X-Request-Id echo of a request the
 * recorder does not record.
 */
import type { FastifyRequest } from 'fastify';
import { requestIdFrom } from '../capture/correlation';
import type { AuditContext, EventSink } from '../events/context';
import { existingContext, newRequestContext, recordedContext as recordedContextOf, type RequestReader } from '../events/request-context';
import { recordingOf, replyOf } from './recordings';
import { tenantOf, userOf } from './request-auth';

const FASTIFY_READER: RequestReader<FastifyRequest> = {
  user: (request, config) => userOf(request, config),
  ip: (request) => request.ip,
  tenant: (request, tenants) => tenantOf(request, tenants),
  header: (request, name) => request.headers[name],
};

/** The context of a request the recorder records; see events/request-context.ts. */
export function recordedContext(request: FastifyRequest, sink: EventSink, requestId: string): AuditContext | null {
  return recordedContextOf(request, sink, requestId, FASTIFY_READER);
}

/**
 * The context of any request given to `record(request, …)`. A request the recorder skipped (a GET)
 * gets one on first use, with the incoming X-Request-Id or a new one, echoed in the response when
 * it has not started yet (as on Express).
 */
export function contextOfRequest(request: FastifyRequest, sink: EventSink): AuditContext {
  const existing = existingContext(request);
  if (existing) return existing;
  const recording = recordingOf(request);
  const requestId = recording?.requestId ?? requestIdFrom(request.headers[sink.config.requestIdHeader]);
  const context = newRequestContext(request, sink, requestId, FASTIFY_READER);
  const reply = recording ? null : replyOf(request);
  if (reply && !reply.sent && !reply.raw.headersSent && reply.getHeader('X-Request-Id') === undefined) reply.header('X-Request-Id', requestId);
  return context;
}
