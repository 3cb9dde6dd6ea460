/**
 * Which keys hold secrets. A key is secret when its normalised form (lower case, without
 * '-' and '_') contains one of the listed words, so `newPassword`, `client_secret`,
 * `X-Api-Key` and `refreshToken` are all caught by a short list. Over-redacting is the safe
 * side of this trade: a redacted value can be asked for again, a leaked one cannot.
 */

export const DEFAULT_REDACT_KEYS: readonly string[] = Object.freeze([
  'password',
  'passwd',
  'secret',
  'token',
  'apikey',
  'authorization',
  'cookie',
  'sessionid',
  'privatekey',
  'creditcard',
  'cardnumber',
  'cvv',
  'iban',
]);

export const REDACTED = '[REDACTED]';

function normalise(key: string): string {
  return key.toLowerCase().replace(/[-_]/g, '');
}

/** Builds a predicate with a small memo: the same keys come back on every request. */
export function secretKeyMatcher(keys: ReadonlySet<string>): (key: string) => boolean {
  const words = [...keys].map(normalise).filter((word) => word !== '');
  if (words.length === 0) return () => false;
  const memo = new Map<string, boolean>();
  return (key: string) => {
    const known = memo.get(key);
    if (known !== undefined) return known;
    const norm = normalise(key);
    const secret = words.some((word) => norm.includes(word));
    if (memo.size < 10_000) memo.set(key, secret);
    return secret;
  };
}
