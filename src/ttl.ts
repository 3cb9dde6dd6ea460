/**
 * Parses the `ttl` option. `ms` alone is too lenient for a retention setting: it reads
 * '3600' as 3.6 seconds and '1M' as one minute, and gives NaN for a typo (rest-hapi passes
 * all of those straight to mongoose). We accept a number of seconds or an `ms` duration
 * with an explicit unit, and reject everything else with a message that says what works.
 */
import ms from 'ms';
import { AuditLogConfigError, show } from './errors';

// Units `ms` understands, minus the ones that mislead ('M' is minutes to `ms`, months to people).
const DURATION = /^(-?(?:\d+)?\.?\d+) *(milliseconds?|msecs?|ms|seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h|days?|d|weeks?|w|years?|yrs?|y)$/i;

/** Returns the TTL in whole seconds, or null for "never expire" (undefined, null, 0). */
export function parseTtl(value: unknown, option = 'ttl'): number | null {
  if (value === undefined || value === null || value === 0 || value === false) return null;
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) {
      throw new AuditLogConfigError('EAUDIT_TTL', option, `${option} must be a positive number of seconds or a duration like '1d'; got ${show(value)}.`);
    }
    return Math.round(value) || null;
  }
  if (typeof value !== 'string') {
    throw new AuditLogConfigError('EAUDIT_TTL', option, `${option} must be a number of seconds or a duration string like '12h', '7d'; got ${show(value)}.`);
  }
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) {
    throw new AuditLogConfigError(
      'EAUDIT_TTL',
      option,
      `${option} ${show(value)} has no unit, and 'ms' would read it as milliseconds. Pass the number ${text} for seconds, or a duration like '${text}s' or '1h'.`,
    );
  }
  const match = DURATION.exec(text);
  if (!match || match[2] === 'M') {
    const hint = /^\d+\s*M$/.test(text) ? " 'M' is ambiguous (ms reads it as minutes); use 'm' for minutes or days like '30d' for a month." : '';
    throw new AuditLogConfigError(
      'EAUDIT_TTL',
      option,
      `${option} ${show(value)} is not a duration.${hint} Use a number of seconds or a duration like '90s', '15m', '12h', '7d', '4w', '1y'.`,
    );
  }
  const millis = ms(text as ms.StringValue);
  if (!Number.isFinite(millis) || millis < 0) {
    throw new AuditLogConfigError('EAUDIT_TTL', option, `${option} must be a positive duration; got ${show(value)}.`);
  }
  const seconds = Math.round(millis / 1000);
  if (seconds === 0 && millis > 0) {
    throw new AuditLogConfigError('EAUDIT_TTL', option, `${option} ${show(value)} is under one second; MongoDB TTL indexes count whole seconds.`);
  }
  return seconds || null;
}
