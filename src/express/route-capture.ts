/**
 * Sees the route that handles a request while it runs. Express assigns `req.route` when a
 * route matches and again when it dispatches (by then the route's params are set, and
 * `req.baseUrl` is the innermost router's mount point). Both Express 4 and 5 do it the same
 * way; nothing else is true at that moment and later too: a route that calls `next(err)`
 * leaves its router, which restores `baseUrl` and `params` before the error handler answers.
 *
 * So the property becomes an accessor on Express's request prototype, installed once: the
 * setter notes the route for requests being recorded and keeps the value in a WeakMap, the
 * getter gives it back, so `req.route` reads as before for the app. Not an own property per
 * request: adding one costs ~2 µs a request (see recorder.ts). Routes bound at any time are
 * covered, unlike a patch of `Route.prototype.dispatch`, which Express 4 binds when a route
 * is defined.
 */
import { IncomingMessage } from 'http';
import type { Request, Response } from 'express';
import { RECORDINGS } from './recordings';

const INSTALLED = Symbol.for('express-audit-log.route-accessor');
const ROUTES = new WeakMap<object, unknown>();

function noteRoute(req: Request, route: unknown): void {
  const res = (req as { res?: Response }).res;
  const rec = res ? RECORDINGS.get(res) : undefined;
  if (!rec) return;
  const pattern = (route as { path?: unknown } | null)?.path;
  const params = req.params as Record<string, unknown> | undefined;
  rec.route = { baseUrl: typeof req.baseUrl === 'string' ? req.baseUrl : '', pattern, params: params ?? null };
  if (params && hasAnyKey(params)) rec.params = params;
}

/** `Object.keys(o).length > 0` without building the array. */
export function hasAnyKey(object: object | undefined | null): boolean {
  for (const _ in object) return true;
  return false;
}

/**
 * Installs the accessor on the request prototype Express made (the one just above Node's
 * IncomingMessage in the chain), once per Express copy. A request that is not an Express
 * request (a bare object in a router unit test) is left alone.
 */
export function captureRoutes(req: Request): void {
  let proto = Object.getPrototypeOf(req) as object | null;
  while (proto && Object.getPrototypeOf(proto) !== IncomingMessage.prototype) proto = Object.getPrototypeOf(proto) as object | null;
  if (!proto || Object.prototype.hasOwnProperty.call(proto, INSTALLED)) return;
  if (Object.prototype.hasOwnProperty.call(proto, 'route')) return; // someone else owns it: leave it
  Object.defineProperty(proto, INSTALLED, { value: true });
  Object.defineProperty(proto, 'route', {
    configurable: true,
    enumerable: true,
    get(this: object) {
      return ROUTES.get(this);
    },
    set(this: Request, route: unknown) {
      ROUTES.set(this, route);
      try {
        noteRoute(this, route);
      } catch {
        // never let the audit log break routing; the entry falls back to the path
      }
    },
  });
}
