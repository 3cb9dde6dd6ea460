/**
 * `$regex` in SQL. The query routes only ever build a regex from an escaped literal (`$term`), so
 * the common cases are a substring test: case-sensitive with `instr`, case-insensitive over ASCII
 * with `instr(lower(...))` (a JS `/i` regex without the `u` flag folds an ASCII pattern exactly
 * as SQLite's `lower()` does, and both see past a NUL, which `LIKE` does not). Anything else runs
 * the regex itself in JS through the `audit_regexp` function, so the answer is always the
 * memory store's.
 */

const SPECIAL = new Set([...'.*+?^${}()|[]\\']);

/** The literal text a regex source matches, when it is one (escapes as query/coerce writes them); else null. */
export function literalOf(source: string): string | null {
  let out = '';
  for (let i = 0; i < source.length; i++) {
    const ch = source[i]!;
    if (ch === '\\') {
      const next = source[i + 1];
      if (next === undefined) return null;
      if (next === 'x' && /^[0-9a-fA-F]{2}$/.test(source.slice(i + 2, i + 4))) {
        out += String.fromCharCode(parseInt(source.slice(i + 2, i + 4), 16));
        i += 3;
      } else if (next === 'u' && /^[0-9a-fA-F]{4}$/.test(source.slice(i + 2, i + 6))) {
        out += String.fromCharCode(parseInt(source.slice(i + 2, i + 6), 16));
        i += 5;
      } else if (SPECIAL.has(next) || next === '/' || next === '-') {
        out += next;
        i += 1;
      } else {
        return null; // \d, \b, \1...: a real pattern
      }
    } else if (SPECIAL.has(ch)) {
      return null;
    } else {
      out += ch;
    }
  }
  return out;
}

/** SQL (two-valued) testing `expr` against the regex; `bind` adds a parameter and returns its placeholder. */
export function regexSql(expr: string, pattern: RegExp, bind: (value: unknown) => string): string {
  const literal = pattern.flags === '' || pattern.flags === 'i' ? literalOf(pattern.source) : null;
  if (literal !== null && pattern.flags === '') return `coalesce(instr(${expr}, ${bind(literal)}) > 0, 0)`;
  if (literal !== null && isAscii(literal)) return `coalesce(instr(lower(${expr}), ${bind(literal.toLowerCase())}) > 0, 0)`;
  return `audit_regexp(${bind(pattern.source)}, ${bind(pattern.flags)}, ${expr})`;
}

/** The `audit_regexp(source, flags, value)` SQL function: 1 when the string value matches. */
export function regexpFunction(): (source: string, flags: string, value: unknown) => number {
  const cache = new Map<string, RegExp>();
  return (source, flags, value) => {
    if (typeof value !== 'string') return 0;
    const key = `${flags}/${source}`;
    let pattern = cache.get(key);
    if (!pattern) {
      if (cache.size >= 64) cache.clear();
      pattern = new RegExp(source, flags);
      cache.set(key, pattern);
    }
    pattern.lastIndex = 0;
    return pattern.test(value) ? 1 : 0;
  };
}

/** SQLite's lower() folds ASCII only: other letters go through the JS regex. */
function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}
