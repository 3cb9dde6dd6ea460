/**
 * The route Hapi matched, in the terms of the framework-free describer (capture/route-pattern.ts):
 * the realm's prefix (`register(plugin, { routes: { prefix } })`) is the mount point, the rest
 * of `request.route.path` the pattern, with Hapi's `{id}`, `{id?}` and `{path*}` written as
 * `:id`, `:id?` and `*path`.
 */
import type { Request } from '@hapi/hapi';
import type { MatchedRoute } from '../capture/route-pattern';

/** `/users/{id}/roles/{roleId?}` → `/users/:id/roles/:roleId?`; `/files/{path*}` → `/files/*path`. */
export function expressPattern(hapiPath: string): string {
  return hapiPath.replace(/\{(\w+)(\?|\*\d*)?\}/g, (_all, name: string, modifier: string | undefined) =>
    modifier?.startsWith('*') ? `*${name}` : `:${name}${modifier ?? ''}`,
  );
}

/** The matched route, or null when none did (Hapi's 404 route, or an unmatched method). */
export function matchedRoute(request: Request): MatchedRoute | null {
  const route = request.route as (Omit<Request['route'], 'method'> & { method: string }) | undefined;
  if (!route || route.method === '_special' || typeof route.path !== 'string') return null;
  const prefix = (route.realm?.modifiers?.route?.prefix as string | undefined) ?? '';
  const own = prefix && route.path.startsWith(prefix) ? route.path.slice(prefix.length) || '/' : route.path;
  return { baseUrl: prefix, pattern: expressPattern(own), params: request.params ?? null };
}
