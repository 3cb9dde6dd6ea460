/** `include` / `exclude` matching is framework-free: see capture/path-filter.ts. */
export { pathMatcher, type PathMatcher, type RoutingSettings } from '../capture/path-filter';
