/**
 * Turns the route a framework matched into path segments that say which parts are names and
 * which are ids. Framework-free: an adapter hands it the innermost router's mount point (a
 * concrete URL, `req.baseUrl` on Express), the route's own pattern (`req.route.path`) and the
 * route params. Positions in the URL do not decide what is an id; the pattern does.
 *
 * Pattern syntax understood: Express 4 (path-to-regexp 0.1: `:id`, `:id?`, `:id(\\d+)`, `*`)
 * and Express 5 (path-to-regexp 8: `:id`, `:"quoted"`, `*splat`, `{optional}` groups, `\\`
 * escapes). A segment holding any parameter (`:userId-:resetToken`, `:token{.:format}`) is a
 * parameter segment; its first parameter is the one it identifies.
 */

export interface Segment {
  /** True for a fixed name from the pattern; false for a parameter; null when unknown (no pattern). */
  literal: boolean | null;
  /** The name (literal) or the concrete value of the segment's first parameter, decoded; null when it has none. */
  value: string | null;
}

export interface MatchedRoute {
  /** The mount point of the router that matched, as a concrete URL path (Express: `req.baseUrl` while the route runs). */
  baseUrl: string;
  /** The route's own pattern (Express: `req.route.path`). Anything but a string means "unknown". */
  pattern: unknown;
  /** The route parameters while the route ran. */
  params: Record<string, unknown> | null;
}

const PARAM = /:(?:"((?:[^"\\]|\\.)*)"|([A-Za-z_$][\w$]*))|\*([A-Za-z_$][\w$]*)?/g;
/** A segment of a mount point that is almost surely an id: a number, an ObjectId, a UUID. */
const ID_LIKE = /^(?:\d+|[0-9a-f]{24}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i;
/** Leading segments that name an API, not a resource: `/api/v1/users/:id` describes `users`. */
const PREFIX = /^(?:api|rest|v\d+(?:\.\d+)*)$/i;

export function decodeSegment(raw: string): string {
  if (!raw.includes('%')) return raw;
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw; // a malformed escape is still the segment the client sent
  }
}

function splitPath(path: string): string[] {
  return path.split('/').filter((part) => part !== '');
}

/** Removes `{...}` optional groups (Express 5) and `(...)` regular-expression groups (Express 4), respecting `\` escapes. */
function stripGroups(pattern: string): string {
  let out = '';
  let depth = 0;
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i]!;
    if (char === '\\') {
      if (depth === 0) out += pattern.slice(i, i + 2);
      i++;
      continue;
    }
    if (char === '{' || char === '(') depth++;
    else if ((char === '}' || char === ')') && depth > 0) depth--;
    else if (depth === 0) out += char;
  }
  return out;
}

function paramValue(params: Record<string, unknown> | null, name: string): string | null {
  const value = params?.[name];
  if (typeof value === 'string') return value === '' ? null : value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return null;
}

/** A parsed pattern segment: a fixed name, or the name of the parameter that identifies it. */
type PatternPart = { literal: true; value: string } | { literal: false; name: string };

/**
 * Patterns parsed once: an app has a fixed set of routes, and parsing one costs more than the
 * rest of describing a request. Bounded all the same, for an app that builds routes at run time.
 */
const PARSED = new Map<string, PatternPart[]>();
const MAX_PARSED = 1000;

function parsePattern(pattern: string): PatternPart[] {
  let parts = PARSED.get(pattern);
  if (parts) return parts;
  parts = [];
  let unnamed = 0; // Express 4 numbers `*` and bare groups 0, 1, …
  for (const raw of splitPath(stripGroups(pattern))) {
    PARAM.lastIndex = 0;
    const match = PARAM.exec(raw);
    if (!match) {
      parts.push({ literal: true, value: raw.replace(/\\(.)/g, '$1').replace(/[?+]$/, '') });
      continue;
    }
    const name = match[1] !== undefined ? match[1].replace(/\\(.)/g, '$1') : (match[2] ?? match[3] ?? String(unnamed++));
    parts.push({ literal: false, name });
  }
  if (PARSED.size >= MAX_PARSED) PARSED.clear();
  PARSED.set(pattern, parts);
  return parts;
}

/** The segments of a route pattern, or null when the pattern is not a plain string path (a RegExp, an array). */
export function patternSegments(pattern: unknown, params: Record<string, unknown> | null): Segment[] | null {
  if (typeof pattern !== 'string') return null;
  return parsePattern(pattern).map((part) => (part.literal ? part : { literal: false, value: paramValue(params, part.name) }));
}

/** The segments of a concrete mount point: ids where a param holds that value or the text looks like an id. */
export function mountSegments(baseUrl: string, params: Record<string, unknown> | null): Segment[] {
  if (baseUrl === '' || baseUrl === '/') return [];
  return splitPath(baseUrl).map((raw) => {
    const value = decodeSegment(raw);
    return { literal: !(ID_LIKE.test(value) || isParamValue(params, value)), value };
  });
}

/** Whether a mergeParams router's mount point holds this value as a param (a few keys: no Set needed). */
function isParamValue(params: Record<string, unknown> | null, value: string): boolean {
  for (const name in params) if (paramValue(params, name) === value) return true;
  return false;
}

/** Segments of a path whose pattern is unknown: every segment's kind is left to its position. */
export function unknownSegments(path: string): Segment[] {
  return splitPath(path).map((raw) => ({ literal: null, value: decodeSegment(raw) }));
}

/**
 * The segments that describe the resource, starting at the collection. The collection is the
 * innermost router's: the last name in its mount point (`auth` for `router.post('/login')`
 * mounted at `/v1/auth`, `users` for `/:id` mounted at `/api/users`), with an owner and its id
 * before it when the mount point is itself an association (`/orgs/:orgId/members`, `/users/42`).
 * When the mount point names nothing but API prefixes (`''`, `/api`, `/v1`), the route's own
 * pattern starts the resource (`app.delete('/v1/users/:id')`, `router.put('/users/:id')` under
 * `/api`). Leading `api`/`rest`/`v1` segments are skipped. Null when the route says nothing
 * usable (no pattern, or only a wildcard such as `app.all('*')`).
 */
export function resourceSegments(route: MatchedRoute): Segment[] | null {
  const own = patternSegments(route.pattern, route.params);
  if (own === null) return null;
  // A catch-all (`app.all('*')`, `/{*splat}`) matched everything and names nothing.
  if ((route.pattern as string).includes('*') && !own.some((segment) => segment.literal)) return null;
  const mount = mountSegments(route.baseUrl, route.params);
  let last = mount.length - 1;
  while (last >= 0 && !(mount[last]!.literal && !isPrefix(mount[last]!))) last--;
  if (last < 0) return skipPrefixes(own);
  let start = last;
  if (start >= 2 && !mount[start - 1]!.literal && mount[start - 2]!.literal) start -= 2;
  return [...mount.slice(start), ...own];
}

function isPrefix(segment: Segment): boolean {
  return segment.literal === true && PREFIX.test(segment.value ?? '');
}

function skipPrefixes(segments: Segment[]): Segment[] {
  let skip = 0;
  while (skip < segments.length - 1 && isPrefix(segments[skip]!)) skip++;
  return segments.slice(skip);
}
