/**
 * `include` / `exclude`: which request paths are recorded. String entries are path prefixes
 * matched the way the app routes: case-insensitively unless the app set `case sensitive
 * routing`, and ignoring a trailing slash unless it set `strict routing`. So `include:
 * ['/role']` covers `POST /ROLE` in a default Express app, as the route it reaches does.
 */
export interface RoutingSettings {
  caseSensitive: boolean;
  strict: boolean;
}

export type PathMatcher = (path: string, settings: RoutingSettings) => boolean;

function prefixMatches(path: string, prefix: string, settings: RoutingSettings): boolean {
  let target = settings.caseSensitive ? path : path.toLowerCase();
  let wanted = settings.caseSensitive ? prefix : prefix.toLowerCase();
  if (!settings.strict) {
    if (wanted.length > 1 && wanted.endsWith('/')) wanted = wanted.slice(0, -1);
    if (target.length > 1 && target.endsWith('/')) target = target.slice(0, -1);
  }
  if (wanted === '/') return true;
  return target === wanted || target.startsWith(wanted.endsWith('/') ? wanted : `${wanted}/`);
}

/** A matcher for the given patterns (string prefixes or RegExps); RegExps are the app's to write case-insensitive. */
export function pathMatcher(patterns: ReadonlyArray<string | RegExp>): PathMatcher {
  return (path, settings) =>
    patterns.some((pattern) => {
      if (typeof pattern === 'string') return prefixMatches(path, pattern, settings);
      pattern.lastIndex = 0; // a /g or /y RegExp keeps state between calls
      return pattern.test(path);
    });
}
