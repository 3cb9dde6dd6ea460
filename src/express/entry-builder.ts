/**
 * Gathers what an Express request and response say about a finished request; the entry itself
 * is built by the framework-free capture/build-entry.ts.
 */
import type { Request, Response } from 'express';
import { buildEntryFromFacts, type BuildContext } from '../capture/build-entry';
import type { AuditEntry } from '../entry';
import type { AuditContext } from '../events/context';
import { annotationOf } from './annotate';
import { recordedTenant, userOf } from './request-user';

export type { BuildContext } from '../capture/build-entry';

export interface Recording {
  start: number;
  /** The method and the URL path (with the mount prefix, without the query), read once when the recorder saw the request. */
  method: string;
  url: string;
  /** Path below the middleware's mount point, at the time the middleware ran: describes a request no route handled. */
  path: string;
  requestId: string;
  /** The last string or Buffer handed to res.send (res.json ends there too). */
  body: string | Buffer | undefined;
  /** The route params while the route ran (route-capture.ts), whichever way the response ends. */
  params: Record<string, unknown> | null;
  /** The pattern of the route that handled the request (`req.route.path`), noted while it ran; undefined when none did. */
  routePath: unknown;
  /** The mount point of that route's router (`req.baseUrl` while it ran). */
  baseUrl: string;
  /** The request's audit context: the mongoose plugin collects its diffs there. */
  context?: AuditContext | null;
  /** Journal mode: builds the entry inside res.end() (end-capture.ts); null builds it when the response closes. */
  onEnd?: ((res: Response, rec: Recording) => void) | null;
}

/**
 * The facts of a finished Express request, for the framework-free builder (capture/build-entry.ts).
 * `ending`: called from inside res.end() (journal mode), so the response is complete, not
 * aborted, though not yet finished on the wire.
 */
export function buildEntry(ctx: BuildContext, req: Request, res: Response, rec: Recording, ending = false): { entry: AuditEntry; bytes: number } | null {
  const annotation = annotationOf(req);
  if (annotation?.skip) return null;
  // 'close' before the response finished: the client went away. The status is the one the app
  // sent, or set before the client left; a default 200 nobody sent is no status at all.
  const aborted = !ending && !res.writableFinished;
  const contentType = res.getHeader('content-type');
  const tenants = ctx.config.tenants;
  return buildEntryFromFacts(ctx, {
    method: rec.method,
    url: rec.url,
    path: rec.path,
    route: rec.routePath === undefined ? null : { baseUrl: rec.baseUrl, pattern: rec.routePath, params: rec.params },
    params: rec.params,
    headers: req.headers ?? {},
    ip: req.ip,
    body: req.body,
    statusCode: aborted && !res.headersSent && res.statusCode === 200 ? null : res.statusCode,
    responseStatus: res.statusCode,
    statusMessage: res.statusMessage || null,
    responseBody: rec.body,
    contentType: typeof contentType === 'string' ? contentType : null,
    aborted,
    start: rec.start,
    requestId: rec.requestId,
    annotation,
    user: () => userOf(req, ctx.config),
    tenant: () => (tenants ? recordedTenant(req, tenants, ctx.fail) : null),
    context: rec.context,
  });
}
