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

/** The segments of a route pattern, or null when the pattern is not a plain string path (a RegExp, an array). */
export function patternSegments(pattern: unknown, params: Record<string, unknown> | null): Segment[] | null {
  if (typeof pattern !== 'string') return null;
  const segments: Segment[] = [];
  let unnamed = 0; // Express 4 numbers `*` and bare groups 0, 1, …
  for (const raw of splitPath(stripGroups(pattern))) {
    PARAM.lastIndex = 0;
    const match = PARAM.exec(raw);
    if (!match) {
      segments.push({ literal: true, value: raw.replace(/\\(.)/g, '$1').replace(/[?+]$/, '') });
      continue;
    }
    const name = match[1] !== undefined ? match[1].replace(/\\(.)/g, '$1') : match[2] ?? match[3] ?? String(unnamed++);
    segments.push({ literal: false, value: paramValue(params, name) });
  }
  return segments;
}

/** The segments of a concrete mount point: ids where a param holds that value or the text looks like an id. */
export function mountSegments(baseUrl: string, params: Record<string, unknown> | null): Segment[] {
  const values = new Set<string>();
  for (const name in params) {
    const value = paramValue(params, name);
    if (value !== null) values.add(value);
  }
  return splitPath(baseUrl).map((raw) => {
    const value = decodeSegment(raw);
    return { literal: !(values.has(value) || ID_LIKE.test(value)), value };
  });
}

/** Segments of a path whose pattern is unknown: every segment's kind is left to its position. */
export function unknownSegments(path: string): Segment[] {
  return splitPath(path).map((raw) => ({ literal: null, value: decodeSegment(raw) }));
}

/**
 * The segments that describe the resource, starting at the collection. The route's own part
 * starts there when it begins with a name (`router.delete('/users/:id')` under any mount
 * point); a route that begins with a parameter (`/:id` in a router mounted at `/api/users`)
 * takes its collection from the end of the mount point, with an owner and its id before it
 * when the mount point is itself an association (`/orgs/:orgId/members`). API prefixes
 * (`api`, `v1`) are skipped. Null when the route says nothing usable (no pattern, or only a
 * wildcard such as `app.all('*')`).
 */
export function resourceSegments(route: MatchedRoute): Segment[] | null {
  const own = patternSegments(route.pattern, route.params);
  if (own === null) return null;
  // A catch-all (`app.all('*')`, `/{*splat}`) matched everything and names nothing.
  if ((route.pattern as string).includes('*') && !own.some((segment) => segment.literal)) return null;
  let resource: Segment[];
  if (own[0]?.literal) {
    resource = own;
  } else {
    const mount = mountSegments(route.baseUrl, route.params);
    let start = mount.length - 1;
    if (start >= 2 && mount[start]!.literal && !mount[start - 1]!.literal && mount[start - 2]!.literal) start -= 2;
    resource = [...mount.slice(Math.max(start, 0)), ...own];
  }
  let skip = 0;
  while (skip < resource.length - 1 && resource[skip]!.literal && PREFIX.test(resource[skip]!.value ?? '')) skip++;
  return resource.slice(skip);
}
