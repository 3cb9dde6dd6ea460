/**
 * The `deliver` option: every entry also goes to an HTTP endpoint (a SIEM's HTTP collector, a
 * log shipper), batched, signed, retried and spooled. Parsed once here, like every option.
 */
import path from 'path';
import { AuditLogConfigError, show } from '../errors';

export const DELIVERY_FORMATS = ['ndjson', 'ocsf'] as const;
export type DeliveryFormat = (typeof DELIVERY_FORMATS)[number];

export interface DeliverOptions {
  /** Where batches are POSTed: an `https:` URL (`http:` only to this machine, or with `allowHttp`). */
  url: string;
  /** The HMAC-SHA256 key that signs every POST (`X-Audit-Signature`); at least 32 characters, shared with the receiver. */
  secret: string;
  /** `'ndjson'`: one entry per line, as the query routes return it. `'ocsf'`: one OCSF API Activity event per line. Defaults to `'ndjson'`. */
  format?: DeliveryFormat;
  /** Extra request headers, e.g. a collector's token: `{ authorization: 'Splunk <token>' }`. */
  headers?: Record<string, string>;
  /** How long one POST may go without progress before it counts as failed and is retried, in ms. Defaults to 10000. */
  timeoutMs?: number;
  /** Spool directory for entries the endpoint could not take in time. Defaults to `<spoolDir>/deliver` when `spoolDir` is set, else none; `false` turns it off. */
  spoolDir?: string | false;
  /** Allow a plain `http:` URL to another machine: entries (payloads, user ids, IPs) would cross the network unencrypted. Defaults to `false`. */
  allowHttp?: boolean;
}

export interface DeliveryConfig {
  url: URL;
  secret: string;
  format: DeliveryFormat;
  headers: Record<string, string>;
  timeoutMs: number;
  spoolDir: string | null;
}

/** Headers the delivery sets itself: a caller's value would break the body's framing or its signature. */
const RESERVED_HEADERS = ['content-type', 'content-length', 'transfer-encoding', 'host', 'x-audit-signature', 'x-audit-entries'];
const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i;
const KNOWN: { [K in keyof Required<DeliverOptions>]: true } = {
  url: true,
  secret: true,
  format: true,
  headers: true,
  timeoutMs: true,
  spoolDir: true,
  allowHttp: true,
};

function fail(option: string, message: string): never {
  throw new AuditLogConfigError('EAUDIT_OPTION', `deliver.${option}`, `deliver.${option} ${message}`);
}

function parseUrl(value: unknown, allowHttp: boolean): URL {
  let url: URL | null = null;
  try {
    url = typeof value === 'string' ? new URL(value) : null;
  } catch {
    url = null;
  }
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    return fail('url', `must be an http(s) URL like 'https://siem.example.com/ingest'; got ${show(value)}.`);
  }
  if (url.username || url.password)
    fail('url', 'must not carry credentials: put them in deliver.headers (e.g. authorization), which are not logged with the URL.');
  if (url.protocol === 'http:' && !allowHttp && !LOOPBACK.test(url.hostname)) {
    fail('url', `is plain http to another machine (${url.host}): entries would cross the network unencrypted. Use https, or set deliver.allowHttp: true.`);
  }
  return url;
}

function parseHeaders(value: unknown): Record<string, string> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail('headers', `must be an object of header names to strings; got ${show(value)}.`);
  const out: Record<string, string> = {};
  for (const [name, header] of Object.entries(value)) {
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) fail('headers', `has an invalid header name ${show(name)}.`);
    if (RESERVED_HEADERS.includes(name.toLowerCase())) fail('headers', `must not set ${name}: the delivery sets it itself.`);
    if (typeof header !== 'string' || /[\r\n]/.test(header)) fail('headers', `${name} must be a string on one line; got ${show(header)}.`);
    out[name.toLowerCase()] = header;
  }
  return out;
}

/** The resolved `deliver` option, or null when it is not set. `spoolDir` is the main option's, for the default. */
export function parseDeliver(value: unknown, spoolDir: string | null): DeliveryConfig | null {
  if (value === undefined || value === false) return null;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new AuditLogConfigError(
      'EAUDIT_OPTION',
      'deliver',
      `deliver must be an object like { url: 'https://siem.example.com/ingest', secret: process.env.AUDIT_DELIVERY_SECRET }; got ${show(value)}.`,
    );
  }
  const options = value as Record<string, unknown>;
  const names = Object.keys(KNOWN);
  for (const name of Object.keys(options)) {
    if (!(name in KNOWN)) {
      throw new AuditLogConfigError('EAUDIT_OPTION', `deliver.${name}`, `unknown deliver option '${name}'. Known: ${names.join(', ')}.`);
    }
  }
  const allowHttp = options.allowHttp ?? false;
  if (typeof allowHttp !== 'boolean') fail('allowHttp', `must be true or false; got ${show(allowHttp)}.`);
  const url = parseUrl(options.url, allowHttp);
  const { secret } = options;
  if (typeof secret !== 'string' || secret.length < 32) {
    fail(
      'secret',
      `must be a string of at least 32 characters (the receiver checks every POST's HMAC with it); got ${typeof secret === 'string' ? `${secret.length} characters` : show(secret)}. Generate one with: node -e "console.log(require('crypto').randomBytes(32).toString('hex'))"`,
    );
  }
  const format = options.format ?? 'ndjson';
  if (!(DELIVERY_FORMATS as readonly unknown[]).includes(format)) fail('format', `must be 'ndjson' or 'ocsf'; got ${show(format)}.`);
  const timeoutMs = options.timeoutMs ?? 10_000;
  if (typeof timeoutMs !== 'number' || !Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > 600_000) {
    fail('timeoutMs', `must be a whole number of ms from 1 to 600000, like 10000; got ${show(timeoutMs)}.`);
  }
  const ownSpool = options.spoolDir;
  if (ownSpool !== undefined && ownSpool !== false && (typeof ownSpool !== 'string' || ownSpool === '')) {
    fail('spoolDir', `must be a directory path or false; got ${show(ownSpool)}.`);
  }
  // Its own directory: the store's spool replays into the store, this one into the endpoint.
  const resolvedSpool = ownSpool === false ? null : typeof ownSpool === 'string' ? ownSpool : spoolDir === null ? null : path.join(spoolDir, 'deliver');
  if (resolvedSpool !== null && spoolDir !== null && path.resolve(resolvedSpool) === path.resolve(spoolDir)) {
    fail('spoolDir', `must differ from spoolDir (${spoolDir}): each spool replays into its own target.`);
  }
  return {
    url,
    secret: secret as string,
    format: format as DeliveryFormat,
    headers: parseHeaders(options.headers),
    timeoutMs,
    spoolDir: resolvedSpool,
  };
}
