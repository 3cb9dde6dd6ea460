/**
 * Request and trace ids. An incoming X-Request-Id is kept only when it looks like an id
 * (bounded, no spaces or control characters), so a client cannot stuff the log through it;
 * otherwise one is generated. The trace id comes from a W3C `traceparent` header.
 */
import { randomUUID } from 'crypto';

const REQUEST_ID = /^[A-Za-z0-9._:@|\-]{1,128}$/;
const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}/;

export function requestIdFrom(header: unknown): string {
  return typeof header === 'string' && REQUEST_ID.test(header) ? header : randomUUID();
}

export function traceIdFrom(header: unknown): string | null {
  if (typeof header !== 'string') return null;
  const match = TRACEPARENT.exec(header.trim().toLowerCase());
  const traceId = match?.[1];
  return traceId && !/^0+$/.test(traceId) ? traceId : null;
}

/** The User-Agent header, bounded: a client may send anything there. */
export function userAgentFrom(header: unknown): string | null {
  return typeof header === 'string' ? header.slice(0, 512) : null;
}
