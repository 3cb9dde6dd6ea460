/**
 * The audit context of an HTTP request, attached to the request so that the recorder, every
 * `record(req, …)` and every audited call in that request share one request id. User and ip
 * are read when asked, not when the context is made: the recorder may run before the auth
 * middleware sets the request's auth. Any framework's request: its adapter lends a reader
 * (express/request-context.ts for Express), one object for all requests, so nothing more is
 * allocated per request than before.
 */
import { traceIdFrom, userAgentFrom } from '../capture/correlation';
import { annotationOf } from '../capture/annotate';
import { clientIp } from '../capture/ip';
import type { Config, TenantConfig } from '../options';
import { contextConsumed, type AuditContext, type EventSink, type PendingChange } from './context';

/** Where a framework keeps what a context reads; `Req` is its request type. */
export interface RequestReader<Req extends object> {
  /** The user id from the app's getUser/getAuth or the framework's usual auth; never throws. */
  user(req: Req, config: Config): string | null;
  /** The client address as the framework resolved it (its trust-proxy setting decides). */
  ip(req: Req): string | undefined;
  /** The request's tenant from getTenant; throws when getTenant fails. */
  tenant(req: Req, tenants: TenantConfig): string | null;
  header(req: Req, name: string): string | string[] | undefined;
}

// A WeakMap, not a property on req: an own property added to a request object costs ~2 µs (see express/recorder.ts).
const CONTEXTS = new WeakMap<object, AuditContext>();

class RequestContext<Req extends object> implements AuditContext {
  changes: PendingChange[] | null;
  changesDropped = 0;
  readonly traceId: string | null;

  constructor(
    readonly sink: EventSink,
    readonly req: Req,
    readonly requestId: string,
    collect: boolean,
    private readonly reader: RequestReader<Req>,
  ) {
    this.changes = collect ? [] : null;
    this.traceId = traceIdFrom(reader.header(req, 'traceparent'));
  }

  get user(): string | null {
    const annotated = annotationOf(this.req)?.user;
    return annotated !== undefined ? annotated : this.reader.user(this.req, this.sink.config);
  }

  get ipAddress(): string | null {
    return clientIp(this.reader.ip(this.req));
  }

  /** Never throws: a failing getTenant is reported, and entries made here store no tenant. */
  get tenant(): string | null {
    const tenants = this.sink.config.tenants;
    if (!tenants) return null;
    try {
      return this.reader.tenant(this.req, tenants);
    } catch (error) {
      this.sink.fail(error);
      return null;
    }
  }

  get userAgent(): string | null {
    return userAgentFrom(this.reader.header(this.req, 'user-agent'));
  }
}

/**
 * The context of a request the recorder records: it collects diffs for the request's entry.
 * Null when there is none yet and nothing reads contexts (no audited function, no mongoose
 * plugin): a later record(req, …) then makes one with the recorder's request id.
 */
export function recordedContext<Req extends object>(req: Req, sink: EventSink, requestId: string, reader: RequestReader<Req>): AuditContext | null {
  const existing = CONTEXTS.get(req);
  if (!existing) {
    if (!contextConsumed()) return null;
    const context = new RequestContext(sink, req, requestId, true, reader);
    CONTEXTS.set(req, context);
    return context;
  }
  // record(req, …) ran first (middleware before the recorder): keep its id, start collecting.
  existing.changes ??= [];
  return existing;
}

/** The context a request already has, if any. */
export function existingContext(req: object): AuditContext | undefined {
  return CONTEXTS.get(req);
}

/** A context for a request the recorder does not record (yet): `record(req, …)` on a GET, an export. */
export function newRequestContext<Req extends object>(req: Req, sink: EventSink, requestId: string, reader: RequestReader<Req>): AuditContext {
  const context = new RequestContext(sink, req, requestId, false, reader);
  CONTEXTS.set(req, context);
  return context;
}
