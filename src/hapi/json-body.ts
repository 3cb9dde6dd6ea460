/**
 * The JSON bodies of the query routes on Hapi, read as Express's `express.json()` reads them for
 * the Express adapter, so both answer alike: an empty body is `{}`, a body that is not an object
 * or an array (`"text"`, `42`, `null`) or not JSON at all is refused (400), and keys are kept as
 * sent (Hapi's own parser refuses a `__proto__` key; the service never merges bodies into objects).
 * Hapi hands over the raw bytes (`payload: { parse: 'gunzip' }`: content encodings decoded).
 */

export type JsonBody = { value: unknown } | { invalid: true };

/** body-parser's strict mode looks at the first character that is not JSON whitespace. */
function firstChar(text: string): string | undefined {
  for (const char of text) if (char !== ' ' && char !== '\t' && char !== '\n' && char !== '\r') return char;
  return undefined;
}

export function parseJsonBody(raw: Buffer | string | null | undefined): JsonBody {
  if (raw === null || raw === undefined || raw.length === 0) return { value: {} };
  const text = typeof raw === 'string' ? raw : raw.toString('utf8');
  const first = firstChar(text);
  if (first !== '{' && first !== '[') return { invalid: true };
  try {
    return { value: JSON.parse(text) as unknown };
  } catch {
    return { invalid: true };
  }
}
