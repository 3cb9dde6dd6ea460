/**
 * The memory store's sort order (the one it had from nedb, whose comparison this is): undefined,
 * null, numbers, strings, booleans, dates, arrays (element by element), then documents.
 */
function compareScalars(a: number | string | boolean, b: number | string | boolean): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function isDate(value: unknown): value is Date {
  return value instanceof Date || Object.prototype.toString.call(value) === '[object Date]';
}

export function compareValues(a: unknown, b: unknown): number {
  if (a === undefined) return b === undefined ? 0 : -1;
  if (b === undefined) return 1;
  if (a === null) return b === null ? 0 : -1;
  if (b === null) return 1;
  for (const type of ['number', 'string', 'boolean'] as const) {
    if (typeof a === type) return typeof b === type ? compareScalars(a as never, b as never) : -1;
    if (typeof b === type) return 1;
  }
  if (isDate(a)) return isDate(b) ? compareScalars(a.getTime(), b.getTime()) : -1;
  if (isDate(b)) return 1;
  if (Array.isArray(a)) {
    if (!Array.isArray(b)) return -1;
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      const order = compareValues(a[i], b[i]);
      if (order !== 0) return order;
    }
    return compareScalars(a.length, b.length);
  }
  if (Array.isArray(b)) return 1;
  const ka = Object.keys(a as object).sort();
  const kb = Object.keys(b as object).sort();
  for (let i = 0; i < Math.min(ka.length, kb.length); i++) {
    const order = compareValues((a as Record<string, unknown>)[ka[i]!], (b as Record<string, unknown>)[kb[i]!]);
    if (order !== 0) return order;
  }
  return compareScalars(ka.length, kb.length);
}
