/** Reads a dotted path ('user.id') from an object; a key that itself contains dots (a namespaced JWT claim) is tried whole first. */
export function getPath(source: unknown, path: string): unknown {
  if (source === null || typeof source !== 'object') return undefined;
  const direct = (source as Record<string, unknown>)[path];
  if (direct !== undefined || !path.includes('.')) return direct;
  let current: unknown = source;
  for (const part of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}
