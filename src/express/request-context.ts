/**
 * The audit context of an HTTP request, attached to the request so that the recorder, every
 * `record(req, …)` and every audited call in that request share one request id. User and ip
 * are read when asked, not when the context is made: the recorder may run before the auth
 * middleware sets `req.auth`.
 */
import type { Request } from 'express';
import { requestIdFrom, traceIdFrom, userAgentFrom } from '../capture/correlation';
import { clientIp } from '../capture/ip';
import { contextConsumed, type AuditContext, type EventSink, type PendingChange } from '../events/context';
import { annotationOf } from './annotate';
import { userOf } from './request-user';
import { recordedTenant } from './request-tenant';
import { recordingRequestId } from './recordings';

// A WeakMap, not a property on req: an own property added to a request object costs ~2 µs (see recorder.ts).
const CONTEXTS = new WeakMap<Request, AuditContext>();

class RequestContext implements AuditContext {
  changes: PendingChange[] | null;
  changesDropped = 0;
  readonly traceId: string | null;

  constructor(
    readonly sink: EventSink,
    readonly req: Request,
    readonly requestId: string,
    collect: boolean,
  ) {
    this.changes = collect ? [] : null;
    this.traceId = traceIdFrom(req.headers.traceparent);
  }

  get user(): string | null {
    const annotated = annotationOf(this.req)?.user;
    return annotated !== undefined ? annotated : userOf(this.req, this.sink.config);
  }

  get ipAddress(): string | null {
    return clientIp(this.req.ip);
  }

  get tenant(): string | null {
    const tenants = this.sink.config.tenants;
    return tenants ? recordedTenant(this.req, tenants, (error) => this.sink.fail(error)) : null;
  }

  get userAgent(): string | null {
    return userAgentFrom(this.req.headers['user-agent']);
  }
}

/**
 * The context of a request the recorder records: it collects diffs for the request's entry.
 * Null when there is none yet and nothing reads contexts (no audited function, no mongoose
 * plugin): a later record(req, …) then makes one with the recorder's request id.
 */
export function recordedContext(req: Request, sink: EventSink, requestId: string): AuditContext | null {
  const existing = CONTEXTS.get(req);
  if (!existing) {
    if (!contextConsumed()) return null;
    const context = new RequestContext(sink, req, requestId, true);
    CONTEXTS.set(req, context);
    return context;
  }
  // record(req, …) ran first (middleware before the recorder): keep its id, start collecting.
  existing.changes ??= [];
  return existing;
}

/**
 * The context of any request given to `record(req, …)`. A request the recorder skipped (a GET)
 * gets one on first use, with the incoming X-Request-Id or a new one, echoed in the response
 * so the client can find the event.
 */
export function contextOfRequest(req: Request, sink: EventSink): AuditContext {
  const existing = CONTEXTS.get(req);
  if (existing) return existing;
  const requestId = recordingRequestId(req.res) ?? requestIdFrom(req.headers[sink.config.requestIdHeader]);
  const context = new RequestContext(sink, req, requestId, false);
  CONTEXTS.set(req, context);
  const res = req.res;
  if (res && !res.headersSent && res.getHeader('X-Request-Id') === undefined) res.setHeader('X-Request-Id', context.requestId!);
  return context;
}
