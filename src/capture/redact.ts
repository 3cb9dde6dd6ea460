/**
 * Which keys hold secrets. The rule, for each listed word:
 * - a word of five letters or more matches anywhere in the key once it is lower-cased and
 *   stripped of '-', '_', '.' and spaces, so `newPassword`, `client_secret`, `X-Api-Key`,
 *   `refreshToken` and `AWS_ACCESS_KEY_ID` are all caught by a short list;
 * - a word of four letters or fewer (`pwd`, `pass`, `otp`, `pin`, `auth`, `cvv`) matches only a
 *   whole word of the key, the key being split at camelCase humps, digits and separators:
 *   `pin`, `userPin`, `pin_code`, `otp2` and `x-auth` are secret; `spinner`, `pinned`,
 *   `passenger`, `author` and `authority` are not. A short word anywhere would redact half
 *   of every payload.
 * Over-redacting is still the safe side of this trade: a redacted value can be asked for
 * again, a leaked one cannot.
 */

export const DEFAULT_REDACT_KEYS: readonly string[] = Object.freeze([
  'password',
  'passwd',
  'passphrase',
  'passcode',
  'pwd',
  'pass',
  'secret',
  'token',
  'apikey',
  'accesskey',
  'authorization',
  'auth',
  'cookie',
  'sessionid',
  'privatekey',
  'otp',
  'pin',
  'pincode',
  'creditcard',
  'cardnumber',
  'cvv',
  'iban',
]);

export const REDACTED = '[REDACTED]';

/** Listed words this long or shorter match whole words only. */
const WHOLE_WORD_MAX = 4;

function normalise(key: string): string {
  return key.toLowerCase().replace(/[-_.\s]/g, '');
}

/** `userPIN2_code` → ['user', 'pin', '2', 'code']. */
export function keyWords(key: string): string[] {
  return key
    .replace(/(\p{Ll})(\p{Lu})/gu, '$1 $2')
    .replace(/(\p{Lu})(\p{Lu}\p{Ll})/gu, '$1 $2')
    .replace(/(\p{L})(\p{N})|(\p{N})(\p{L})/gu, '$1$3 $2$4')
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean);
}

/** Builds a predicate with a small memo: the same keys come back on every request. */
export function secretKeyMatcher(keys: ReadonlySet<string>): (key: string) => boolean {
  const listed = [...keys].map(normalise).filter((word) => word !== '');
  if (listed.length === 0) return () => false;
  const anywhere = listed.filter((word) => word.length > WHOLE_WORD_MAX);
  const whole = new Set(listed.filter((word) => word.length <= WHOLE_WORD_MAX));
  const memo = new Map<string, boolean>();
  return (key: string) => {
    const known = memo.get(key);
    if (known !== undefined) return known;
    const norm = normalise(key);
    const secret = anywhere.some((word) => norm.includes(word)) || (whole.size > 0 && keyWords(key).some((word) => whole.has(word)));
    if (memo.size < 10_000) memo.set(key, secret);
    return secret;
  };
}
