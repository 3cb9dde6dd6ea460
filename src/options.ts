/**
 * The public options type and its one parser. `auditLog()` calls `parseOptions()` once; from
 * then on the code reads the resolved `Config`, whose every field is set and valid, so no
 * other module re-checks or re-defaults an option.
 */
import type { KeyObject } from 'crypto';
import { ASSOCIATION_TYPES, type AssociationType, type AuditEntry } from './entry';
import { AuditLogConfigError, show } from './errors';
import { DEFAULT_REDACT_KEYS } from './capture/redact';
import { parseActions, type ActionDefinition, type ActionSpec } from './events/actions';
import type { AuditStore } from './stores/types';
import { parseTtl } from './ttl';
import { parseDeliver, type DeliverOptions, type DeliveryConfig } from './delivery/options';
import { DEFAULT_SEALED_FIELDS, SEALABLE_FIELDS, type SealableField } from './encryption/keyring';
import { keyBytes, masterKeyOf, type MasterKey } from './encryption/master-keys';
import { parseRetention, type RetentionRule, type RetentionRuleOptions } from './governance/retention';
import { KeyError, privateKeyOf, publicKeyMap, publicKeyOf, signerOf, type PublicKeys, type Signer } from './integrity/signing';

/** What the app may say about one request through `auditLog.annotate(req, …)`. */
export interface AuditAnnotation {
  /** Do not record this request at all. */
  skip?: boolean;
  action?: string;
  collectionName?: string | null;
  childCollectionName?: string | null;
  associationType?: AssociationType | null;
  documents?: Array<string | number> | null;
  notes?: string | null;
  user?: string | null;
}

/**
 * Who is behind a request, as `getAuth(req)` reports it. `user` is the id recorded in entries;
 * `scopes` (a space-separated string or an array) is what the query routes' `scope` rule checks.
 */
export interface AuditAuth {
  user?: string | number | null;
  scopes?: string | readonly string[] | null;
}

/** Tamper evidence: a hash chain per writer, and signed checkpoints. See the README's Integrity section. */
export interface IntegrityOptions {
  /** Ed25519 private key (PEM or KeyObject) that signs checkpoints. Without it, checkpoints are stored unsigned. */
  signingKey?: string | KeyObject;
  /** Ed25519 public key(s) the verify route accepts (old and new during a rotation). Defaults to the signing key's public key. */
  publicKey?: string | KeyObject | ReadonlyArray<string | KeyObject>;
  /** A checkpoint after this many stored entries. Defaults to 1000. */
  checkpointEvery?: number;
  /** A checkpoint at least this often (ms) while entries are stored: the longest an entry waits for one. Defaults to 60000. */
  checkpointIntervalMs?: number;
}

export interface IntegrityConfig {
  signer: Signer | null;
  /** Keys the verify route checks signatures with, by key id; empty: signatures not checked. */
  publicKeys: PublicKeys;
  checkpointEvery: number;
  checkpointIntervalMs: number;
}

/** Erasure that keeps the proof (crypto-shredding). See the README's Data governance section. */
export interface EncryptionOptions {
  /** 32 bytes: a Buffer, 64 hex digits or base64. Wraps the per-user data keys; keep it out of the database. */
  masterKey: Buffer | Uint8Array | string;
  /** Earlier master keys, during a rotation: they still unwrap data keys (and find users) until `audit.rotateMasterKey()` re-wrapped everything. */
  previousKeys?: ReadonlyArray<Buffer | Uint8Array | string>;
  /** The personal fields sealed per user. Defaults to user, ipAddress, userAgent, payload, params, result, changes, message. */
  fields?: readonly string[];
  /** Unwrapped data keys kept in memory. Defaults to 10000. */
  cacheSize?: number;
}

export interface EncryptionConfig {
  /** The current master key first. */
  masterKeys: MasterKey[];
  fields: SealableField[];
  cacheSize: number;
}

export interface Logger {
  warn(message: string): void;
  error(message: string): void;
}

/**
 * The options of any adapter, for its framework's request type `Req`: the Express entry point
 * exports them as `AuditLogOptions` with Express's `Request`. The core never looks inside a
 * request; it only hands it to the app's callbacks.
 */
export interface AuditCoreOptions<Req = unknown> {
  /** Record and serve routes. `AUDIT_LOG_ENABLED=false` in the environment also turns it off. Defaults to `true`. */
  enabled?: boolean;
  /** Where entries go. Defaults to `mongoStore()`: the `auditLog` collection on mongoose's default connection. */
  store?: AuditStore;
  /** How long entries live: seconds, or a duration like `'1d'`, `'12h'`, `'90d'`. Defaults to none (kept forever). */
  ttl?: number | string | null;
  /** Scopes needed for the query routes (with `publicRoutes`, for manual entries only), hapi style: any plain one, every `+x`, no `!x`. Defaults to none (any authenticated user). */
  scope?: string | string[];
  /** Dotted path of the scopes in `req.auth`. Defaults to `'scope'`. */
  scopeKey?: string;
  /** Dotted path of the user id in `req.auth`. Defaults to `'sub'`. */
  userIdKey?: string;
  /** Returns the user id for a request; overrides `userIdKey` and `getAuth`'s user. */
  getUser?: (req: Req) => string | number | null | undefined;
  /**
   * Reads any auth (passport's `req.user`, express-session's `req.session`, custom): returns
   * `{ user, scopes }` for an authenticated request, `null`/`undefined` otherwise. Synchronous:
   * the recorder reads the user as the response finishes. Replaces `req.auth` (and so
   * `userIdKey`/`scopeKey`) for the recorded user and the query routes' 401/403. Defaults to reading `req.auth`.
   */
  getAuth?: (req: Req) => AuditAuth | null | undefined;
  /** Serve the read routes without authentication; manual entries (`POST`) still need auth and `scope`. Defaults to `false`: never do this in production. */
  publicRoutes?: boolean;
  /** Mount the query routes at all. Defaults to `true`. */
  routes?: boolean;
  /** Where the query routes live. Defaults to `'/auditLog'`. */
  basePath?: string;
  /** Accept manual entries through `POST {basePath}`. Defaults to `true`. */
  manualEntries?: boolean;
  /** Serve the admin page at `{basePath}/ui`. Defaults to `true`. */
  ui?: boolean;
  /** HTTP methods that are recorded. Defaults to `['POST', 'PUT', 'PATCH', 'DELETE']`. */
  methods?: string[];
  /** Record only paths matching one of these (string prefixes or RegExps). Defaults to all paths. */
  include?: Array<string | RegExp>;
  /** Never record paths matching one of these (string prefixes or RegExps). Defaults to none. */
  exclude?: Array<string | RegExp>;
  /** Association types by `'owner.child'` collection pair, e.g. `{ 'user.groups': 'MANY_MANY' }`. */
  associations?: Record<string, AssociationType>;
  /** Keys whose values are replaced by `'[REDACTED]'` at any depth (case-insensitive), or `false`. Defaults to `DEFAULT_REDACT_KEYS`. */
  redact?: string[] | false;
  /** Payload or result larger than this (bytes of JSON) is replaced by a marker. Defaults to 65536. */
  maxFieldBytes?: number;
  /** Objects nested deeper than this are replaced by a marker. Defaults to 32. */
  maxDepth?: number;
  /** `$limit` when the query gives none. Defaults to 20. */
  defaultLimit?: number;
  /** The largest `$limit` accepted. Defaults to 1000. */
  maxLimit?: number;
  /** Rows one `GET {basePath}/export` streams at most. Defaults to 100000. */
  exportMaxRows?: number;
  /** Entries written to the store in one batch at most. Defaults to 100. */
  batchSize?: number;
  /** How long an entry may wait for its batch to fill, in ms. Defaults to 50. */
  flushIntervalMs?: number;
  /** Entries held in memory while the store is slow or down. Defaults to 10000. */
  maxQueueEntries?: number;
  /** Bytes (estimated JSON size) held in memory while the store is slow or down. Defaults to 32 MiB. */
  maxQueueBytes?: number;
  /** First retry delay after a failed write, in ms; doubles up to `retryMaxDelayMs`, with jitter. Defaults to 100. */
  retryMinDelayMs?: number;
  /** Longest retry delay, in ms. Defaults to 30000. */
  retryMaxDelayMs?: number;
  /** Directory of the on-disk spool used when the queue is full; `false` turns spooling off. Defaults to `false`. */
  spoolDir?: string | false;
  /**
   * `'memory'`: entries wait in memory for their batch; a crash (kill -9, OOM) loses what was
   * not yet written. `'journal'`: each entry is also appended to a journal file under `spoolDir`
   * before the response's last bytes are handed to the socket, replayed on the next start and
   * trimmed as the store confirms writes, so a crash loses no entry of an answered request.
   * Needs `spoolDir`. Defaults to `'memory'`.
   */
  durability?: 'memory' | 'journal';
  /** Where warnings go when nobody listens for `'error'`. Defaults to `console`. */
  logger?: Logger;
  /** Header that carries an incoming request id. Defaults to `'x-request-id'`. */
  requestIdHeader?: string;
  /** Send the entry's request id back in the `requestIdHeader` header of every recorded response. Defaults to `false`: responses stay as the app made them. */
  echoRequestId?: boolean;
  /**
   * Called with each entry before it is queued; return `null` to drop it or a changed entry.
   * `req` is the request the entry comes from (for a manual entry, the `POST {basePath}`), or
   * `null` for an event outside any request (`record(null, …)` in a job, a diff outside HTTP).
   */
  transform?: (entry: AuditEntry, req: Req | null) => AuditEntry | null;
  /** Custom actions registered up front, with an optional message template: `{ 'record.publish': { message: '{user} published {documents.0}' } }`. */
  actions?: Record<string, ActionDefinition>;
  /** `record()` and audited functions throw on an action not listed in `actions`. Defaults to `false`. */
  strictActions?: boolean;
  /** Hash-chain every entry and store checkpoints (signed with `signingKey`); `true` for the defaults, unsigned. Defaults to off: no hashing at all. */
  integrity?: IntegrityOptions | boolean;
  /** Scopes needed for `GET {basePath}/verify`, on top of `scope` (same syntax). Defaults to `scope` alone. */
  verifyScope?: string | string[];
  /**
   * Retention by action and/or collection, first match wins, else `ttl`: `[{ action: 'Login', ttl: '30d' },
   * { collectionName: 'payments', ttl: '7y' }, { action: 'Export', ttl: 0 }]` (0: kept forever). Applies to
   * entries written from then on. Defaults to none.
   */
  retention?: RetentionRuleOptions[];
  /** Scopes needed for the legal-hold routes (`{basePath}/holds`), on top of `scope` (same syntax). Defaults to none: the hold routes answer 403. */
  holdScope?: string | string[];
  /** Seal personal fields per user so that `audit.erase({ user })` makes them unreadable while the integrity chain still verifies. Defaults to off: nothing is encrypted. */
  encryption?: EncryptionOptions;
  /** Scopes needed for `POST {basePath}/erasures`, on top of `scope` (same syntax). Defaults to none: the route answers 403 to everyone. */
  eraseScope?: string | string[];
  /** Also send every entry to an HTTP endpoint (a SIEM): batched, signed NDJSON or OCSF, retried and spooled. Defaults to off. */
  deliver?: DeliverOptions | false;
  /**
   * The tenant of a request (an organisation id, say): stored as `tenant` on every entry the
   * request makes, and read for the query routes, which then show a caller only its tenant's
   * entries. Synchronous, like `getAuth`. Defaults to none: no tenants.
   */
  getTenant?: (req: Req) => string | number | null | undefined;
  /** Scopes (same syntax as `scope`) that read across tenants and may filter with `?tenant=`. Needs `getTenant`. Defaults to none: nobody reads across tenants. */
  tenantScope?: string | string[];
  /**
   * What an entry keeps of the client's address: `'full'`, `'truncated'` (IPv4 /24, IPv6 /48),
   * `'hashed'` (keyed HMAC-SHA256 with `ipHashKey`: equal addresses still group) or `false`
   * (not stored). Defaults to `'full'`.
   */
  ipAddress?: IpAddressMode;
  /** The secret key of `ipAddress: 'hashed'`: at least 16 bytes (a string or a Buffer), kept as long as the log. */
  ipHashKey?: string | Buffer;
}

export type IpAddressMode = 'full' | 'truncated' | 'hashed' | false;

/** Tenants (the `getTenant` option): how a request's tenant is found, and who reads across tenants. */
export interface TenantConfig {
  getTenant: (req: unknown) => string | number | null | undefined;
  /** Null: nobody reads across tenants. */
  scope: ScopeRule | null;
}

/** What is stored of a client address; `key` is set for 'hashed' only. */
export interface IpPolicy {
  mode: 'full' | 'truncated' | 'hashed' | 'none';
  key: Buffer | null;
}

/** Everything resolved: no optional fields, no re-checking downstream. */
export interface Config {
  enabled: boolean;
  store: AuditStore | null;
  ttlSeconds: number | null;
  scope: ScopeRule;
  scopeKey: string;
  userIdKey: string;
  getUser: ((req: unknown) => string | number | null | undefined) | null;
  getAuth: ((req: unknown) => AuditAuth | null | undefined) | null;
  publicRoutes: boolean;
  routes: boolean;
  basePath: string;
  manualEntries: boolean;
  ui: boolean;
  methods: ReadonlySet<string>;
  include: ReadonlyArray<string | RegExp>;
  exclude: ReadonlyArray<string | RegExp>;
  associations: ReadonlyMap<string, AssociationType>;
  redactKeys: ReadonlySet<string>;
  maxFieldBytes: number;
  maxDepth: number;
  defaultLimit: number;
  maxLimit: number;
  exportMaxRows: number;
  batchSize: number;
  flushIntervalMs: number;
  maxQueueEntries: number;
  maxQueueBytes: number;
  retryMinDelayMs: number;
  retryMaxDelayMs: number;
  spoolDir: string | null;
  durability: 'memory' | 'journal';
  logger: Logger;
  requestIdHeader: string;
  echoRequestId: boolean;
  transform: ((entry: AuditEntry, req: unknown) => AuditEntry | null) | null;
  actions: ReadonlyMap<string, ActionSpec>;
  strictActions: boolean;
  integrity: IntegrityConfig | null;
  verifyScope: ScopeRule | null;
  deliver: DeliveryConfig | null;
  /** Null when `getTenant` is not given: no tenant field, no restriction. */
  tenants: TenantConfig | null;
  ipAddress: IpPolicy;
  encryption: EncryptionConfig | null;
  eraseScope: ScopeRule | null;
  retention: RetentionRule[];
  /** null: nobody may use the hold routes. */
  holdScope: ScopeRule | null;
}

/** hapi-style scope: any of `anyOf` (when non-empty), all of `allOf`, none of `noneOf`. */
export interface ScopeRule {
  anyOf: string[];
  allOf: string[];
  noneOf: string[];
}

// Every option must be listed here: a new option that is not breaks the build (Required<>).
const KNOWN: { [K in keyof Required<AuditCoreOptions>]: true } = {
  enabled: true,
  store: true,
  ttl: true,
  scope: true,
  scopeKey: true,
  userIdKey: true,
  getUser: true,
  getAuth: true,
  publicRoutes: true,
  routes: true,
  basePath: true,
  manualEntries: true,
  ui: true,
  methods: true,
  include: true,
  exclude: true,
  associations: true,
  redact: true,
  maxFieldBytes: true,
  maxDepth: true,
  defaultLimit: true,
  maxLimit: true,
  exportMaxRows: true,
  batchSize: true,
  flushIntervalMs: true,
  maxQueueEntries: true,
  maxQueueBytes: true,
  retryMinDelayMs: true,
  retryMaxDelayMs: true,
  spoolDir: true,
  durability: true,
  logger: true,
  requestIdHeader: true,
  echoRequestId: true,
  transform: true,
  actions: true,
  strictActions: true,
  integrity: true,
  verifyScope: true,
  deliver: true,
  getTenant: true,
  tenantScope: true,
  ipAddress: true,
  ipHashKey: true,
  encryption: true,
  eraseScope: true,
  retention: true,
  holdScope: true,
};
const ENCRYPTION_KNOWN: { [K in keyof Required<EncryptionOptions>]: true } = {
  masterKey: true,
  previousKeys: true,
  fields: true,
  cacheSize: true,
};
const KEY_HELP = `Generate one with: node -e "console.log(require('crypto').randomBytes(32).toString('base64'))"`;
const INTEGRITY_KNOWN: { [K in keyof Required<IntegrityOptions>]: true } = {
  signingKey: true,
  publicKey: true,
  checkpointEvery: true,
  checkpointIntervalMs: true,
};
const KNOWN_NAMES = Object.keys(KNOWN);
const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

const DURABILITIES = ['memory', 'journal'] as const;

function parseDurability(value: unknown, hasSpoolDir: boolean): Config['durability'] {
  if (value === undefined) return 'memory';
  if (!DURABILITIES.includes(value as Config['durability']))
    fail('durability', `durability must be 'memory' or 'journal'; got ${show(value)}.${typeof value === 'string' ? didYouMean(value, DURABILITIES) : ''}`);
  if (value === 'journal' && !hasSpoolDir)
    fail(
      'durability',
      "durability: 'journal' keeps its journal in spoolDir, and replays from there what a crashed process journaled; set spoolDir too (a directory only this process's user can write, e.g. spoolDir: '/var/lib/my-app/audit-spool').",
    );
  return value as Config['durability'];
}

function fail(option: string, message: string): never {
  throw new AuditLogConfigError('EAUDIT_OPTION', option, message);
}

/** Edit distance, for "did you mean"; ten lines are not worth a dependency. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min((row[j - 1] ?? 0) + 1, (prev[j] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
    }
    prev = row;
  }
  return prev[b.length] ?? 0;
}

export function didYouMean(name: string, candidates: readonly string[]): string {
  let best: string | null = null;
  let bestScore = Infinity;
  for (const candidate of candidates) {
    const score = distance(name.toLowerCase(), candidate.toLowerCase());
    if (score < bestScore) [best, bestScore] = [candidate, score];
  }
  return best !== null && bestScore <= Math.max(2, Math.floor(name.length / 3)) ? ` Did you mean '${best}'?` : '';
}

function bool(options: AuditCoreOptions, key: keyof AuditCoreOptions, fallback: boolean): boolean {
  const value = options[key];
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') fail(key, `${key} must be true or false; got ${show(value)}.`);
  return value;
}

function int(options: AuditCoreOptions, key: keyof AuditCoreOptions, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const value = options[key];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(key, `${key} must be an integer from ${min} to ${max}; got ${show(value)}.`);
  }
  return value;
}

function dottedPath(options: AuditCoreOptions, key: 'scopeKey' | 'userIdKey' | 'requestIdHeader', fallback: string): string {
  const value = options[key];
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || value.trim() === '') fail(key, `${key} must be a non-empty string like '${fallback}'; got ${show(value)}.`);
  return value;
}

function parseScope(value: unknown, option: 'scope' | 'verifyScope' | 'tenantScope' | 'eraseScope' | 'holdScope' = 'scope'): ScopeRule {
  const rule: ScopeRule = { anyOf: [], allOf: [], noneOf: [] };
  if (value === undefined) return rule;
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list)) fail(option, `${option} must be a string or an array of strings like ['admin']; got ${show(value)}.`);
  for (const item of list) {
    if (typeof item !== 'string' || !/^[+!]?[^\s+!][^\s]*$/.test(item)) {
      fail(option, `${option} entries must be non-empty strings without spaces, optionally prefixed by '+' (required) or '!' (forbidden); got ${show(item)}.`);
    }
    if (item.startsWith('+')) rule.allOf.push(item.slice(1));
    else if (item.startsWith('!')) rule.noneOf.push(item.slice(1));
    else rule.anyOf.push(item);
  }
  return rule;
}

function parseMatchers(value: unknown, key: 'include' | 'exclude'): Array<string | RegExp> {
  if (value === undefined) return [];
  if (!Array.isArray(value)) fail(key, `${key} must be an array of path prefixes or RegExps, like ['/health', /^\\/internal\\//]; got ${show(value)}.`);
  for (const item of value) {
    const ok = item instanceof RegExp || (typeof item === 'string' && item.startsWith('/'));
    if (!ok) fail(key, `${key} entries must be paths starting with '/' or RegExps; got ${show(item)}.`);
  }
  return value as Array<string | RegExp>;
}

function parseMethods(value: unknown): Set<string> {
  if (value === undefined) return new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
  if (!Array.isArray(value) || value.length === 0)
    fail('methods', `methods must be a non-empty array like ['POST', 'PUT', 'PATCH', 'DELETE']; got ${show(value)}.`);
  const methods = new Set<string>();
  for (const item of value) {
    const upper = typeof item === 'string' ? item.toUpperCase() : '';
    if (!HTTP_METHODS.includes(upper)) fail('methods', `methods has ${show(item)}; use any of ${HTTP_METHODS.join(', ')}.`);
    methods.add(upper);
  }
  return methods;
}

function parseAssociations(value: unknown): Map<string, AssociationType> {
  const map = new Map<string, AssociationType>();
  if (value === undefined) return map;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    fail('associations', `associations must be an object like { 'user.groups': 'MANY_MANY' }; got ${show(value)}.`);
  }
  for (const [pair, type] of Object.entries(value)) {
    if (!/^[^.\s]+\.[^.\s]+$/.test(pair))
      fail(`associations.${pair}`, `associations keys are 'owner.child' collection pairs like 'user.groups'; got ${show(pair)}.`);
    if (!(ASSOCIATION_TYPES as readonly unknown[]).includes(type)) {
      fail(`associations.${pair}`, `associations['${pair}'] must be one of ${ASSOCIATION_TYPES.join(', ')}; got ${show(type)}.`);
    }
    map.set(pair, type as AssociationType);
  }
  return map;
}

function parseRedact(value: unknown): Set<string> {
  if (value === false) return new Set();
  const list = value === undefined ? DEFAULT_REDACT_KEYS : value;
  if (!Array.isArray(list) || list.some((key) => typeof key !== 'string' || key === '')) {
    fail('redact', `redact must be false or an array of key names like [...DEFAULT_REDACT_KEYS, 'ssn']; got ${show(value)}.`);
  }
  return new Set((list as string[]).map((key) => key.toLowerCase()));
}

function parseBasePath(value: unknown): string {
  if (value === undefined) return '/auditLog';
  if (typeof value !== 'string' || !/^\/[A-Za-z0-9._~\-/]*[A-Za-z0-9._~-]$/.test(value)) {
    fail('basePath', `basePath must be a path like '/auditLog' or '/admin/audit' (no trailing slash, no parameters); got ${show(value)}.`);
  }
  return value;
}

function parseStore(value: unknown): AuditStore | null {
  if (value === undefined) return null;
  const store = value as Partial<AuditStore> | null;
  const missing = (['init', 'insertMany', 'find', 'count', 'findById', 'close'] as const).filter((method) => typeof store?.[method] !== 'function');
  if (missing.length > 0) {
    fail(
      'store',
      `store must implement the AuditStore interface (memoryStore(), fileStore({ path }), mongoStore()); ${show(value)} lacks ${missing.join(', ')}.`,
    );
  }
  return store as AuditStore;
}

function parseEnabled(options: AuditCoreOptions, env: NodeJS.ProcessEnv): boolean {
  const fromOption = bool(options, 'enabled', true);
  const raw = env.AUDIT_LOG_ENABLED;
  if (raw === undefined || raw === '') return fromOption;
  const text = raw.trim().toLowerCase();
  if (['false', '0', 'no', 'off'].includes(text)) return false;
  if (['true', '1', 'yes', 'on'].includes(text)) return fromOption;
  throw new AuditLogConfigError('EAUDIT_OPTION', 'AUDIT_LOG_ENABLED', `the environment variable AUDIT_LOG_ENABLED must be true or false; got ${show(raw)}.`);
}

function parseFunction<T>(options: AuditCoreOptions, key: 'getUser' | 'getAuth' | 'transform' | 'getTenant'): T | null {
  const value = options[key];
  if (value === undefined) return null;
  if (typeof value !== 'function') fail(key, `${key} must be a function; got ${show(value)}.`);
  return value as T;
}

function integrityInt(options: IntegrityOptions, key: 'checkpointEvery' | 'checkpointIntervalMs', fallback: number, min: number, max: number): number {
  const value = options[key];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(`integrity.${key}`, `integrity.${key} must be an integer from ${min} to ${max}; got ${show(value)}.`);
  }
  return value;
}

function parseIntegrity(value: unknown): IntegrityConfig | null {
  if (value === undefined || value === false) return null;
  const options = (value === true ? {} : value) as IntegrityOptions;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    fail('integrity', `integrity must be true, false or an object like { signingKey: privateKeyPem }; got ${show(value)}.`);
  }
  const names = Object.keys(INTEGRITY_KNOWN);
  for (const name of Object.keys(options)) {
    if (!names.includes(name)) fail(`integrity.${name}`, `unknown integrity option '${name}'.${didYouMean(name, names)} Known: ${names.join(', ')}.`);
  }
  try {
    const privateKey = options.signingKey === undefined ? null : privateKeyOf(options.signingKey);
    const given = options.publicKey === undefined ? [] : Array.isArray(options.publicKey) ? options.publicKey : [options.publicKey];
    const keys = given.map(publicKeyOf);
    // The signer's own key verifies its checkpoints unless the app lists the keys itself.
    if (privateKey && keys.length === 0) keys.push(publicKeyOf(privateKey));
    return {
      signer: privateKey ? signerOf(privateKey) : null,
      publicKeys: publicKeyMap(keys),
      checkpointEvery: integrityInt(options, 'checkpointEvery', 1000, 1, 10_000_000),
      checkpointIntervalMs: integrityInt(options, 'checkpointIntervalMs', 60_000, 100, 86_400_000),
    };
  } catch (error) {
    if (!(error instanceof KeyError)) throw error;
    const option = error.message.startsWith('signingKey') ? 'integrity.signingKey' : 'integrity.publicKey';
    return fail(
      option,
      `${option} ${error.message.replace(/^(signingKey|publicKey) /, '')} Generate a pair with: node -e "const k=require('crypto').generateKeyPairSync('ed25519');console.log(k.privateKey.export({type:'pkcs8',format:'pem'})+k.publicKey.export({type:'spki',format:'pem'}))"`,
    );
  }
}

function parseTenants(options: AuditCoreOptions): TenantConfig | null {
  const getTenant = parseFunction<TenantConfig['getTenant']>(options, 'getTenant');
  if (!getTenant) {
    if (options.tenantScope !== undefined)
      fail(
        'tenantScope',
        'tenantScope lets callers read across tenants, and there are none without getTenant; add getTenant: (req) => tenantId, or remove tenantScope.',
      );
    return null;
  }
  return { getTenant, scope: options.tenantScope === undefined ? null : parseScope(options.tenantScope, 'tenantScope') };
}

const IP_MODES = ['full', 'truncated', 'hashed'];
const IP_KEY_HINT = `generate one with: node -e "console.log(require('crypto').randomBytes(32).toString('base64'))"`;

function parseIpAddress(options: AuditCoreOptions): IpPolicy {
  const mode = options.ipAddress ?? 'full';
  if (mode !== false && !IP_MODES.includes(mode as string)) {
    const hint = typeof mode === 'string' ? didYouMean(mode, IP_MODES) : '';
    fail('ipAddress', `ipAddress must be 'full', 'truncated', 'hashed' or false; got ${show(mode)}.${hint}`);
  }
  const key = options.ipHashKey;
  if (mode !== 'hashed') {
    if (key !== undefined)
      fail('ipHashKey', `ipHashKey is the key of ipAddress: 'hashed', and ipAddress is ${show(mode)}; set ipAddress: 'hashed' or remove ipHashKey.`);
    return { mode: mode === false ? 'none' : (mode as 'full' | 'truncated'), key: null };
  }
  if (key === undefined) fail('ipHashKey', `ipAddress: 'hashed' needs ipHashKey, a secret of at least 16 bytes kept as long as the log (${IP_KEY_HINT}).`);
  const bytes = typeof key === 'string' ? Buffer.from(key, 'utf8') : Buffer.isBuffer(key) ? Buffer.from(key) : null;
  if (bytes === null || bytes.length < 16) {
    fail(
      'ipHashKey',
      `ipHashKey must be a string or Buffer of at least 16 bytes (a short key lets anyone who reads the log try every address); got ${bytes === null ? show(key) : `${bytes.length} bytes`}; ${IP_KEY_HINT}.`,
    );
  }
  return { mode: 'hashed', key: bytes };
}

function masterKey(value: unknown, option: string): MasterKey {
  const bytes = keyBytes(value);
  if (!bytes) {
    const size =
      Buffer.isBuffer(value) || value instanceof Uint8Array
        ? `a ${value.length}-byte buffer`
        : typeof value === 'string'
          ? `a string of ${value.length} characters`
          : show(value);
    fail(option, `${option} must be 32 bytes: a Buffer, 64 hex digits or base64 (44 characters); got ${size}. ${KEY_HELP}`);
  }
  return masterKeyOf(bytes);
}

function parseEncryption(value: unknown): EncryptionConfig | null {
  if (value === undefined) return null;
  if (typeof value !== 'object' || value === null || Array.isArray(value) || Buffer.isBuffer(value)) {
    fail('encryption', `encryption must be an object like { masterKey: process.env.AUDIT_MASTER_KEY }; got ${show(value)}.`);
  }
  const options = value as EncryptionOptions;
  const names = Object.keys(ENCRYPTION_KNOWN);
  for (const name of Object.keys(options)) {
    if (!names.includes(name)) fail(`encryption.${name}`, `unknown encryption option '${name}'.${didYouMean(name, names)} Known: ${names.join(', ')}.`);
  }
  if (options.masterKey === undefined) fail('encryption.masterKey', `encryption needs a masterKey (32 bytes). ${KEY_HELP}`);
  const masterKeys = [masterKey(options.masterKey, 'encryption.masterKey')];
  const previous = options.previousKeys ?? [];
  if (!Array.isArray(previous)) fail('encryption.previousKeys', `encryption.previousKeys must be an array of earlier master keys; got ${show(previous)}.`);
  previous.forEach((key, i) => {
    const parsed = masterKey(key, `encryption.previousKeys[${i}]`);
    if (!masterKeys.some((known) => known.id === parsed.id)) masterKeys.push(parsed);
  });
  let fields: SealableField[] = [...DEFAULT_SEALED_FIELDS];
  if (options.fields !== undefined) {
    const sealable: readonly string[] = SEALABLE_FIELDS;
    if (!Array.isArray(options.fields) || options.fields.length === 0)
      fail('encryption.fields', `encryption.fields must be a non-empty array of field names like ['user', 'payload']; got ${show(options.fields)}.`);
    for (const field of options.fields) {
      if (typeof field !== 'string' || !sealable.includes(field))
        fail('encryption.fields', `encryption.fields cannot seal ${show(field)}.${didYouMean(String(field), sealable)} Sealable: ${sealable.join(', ')}.`);
    }
    fields = [...new Set(options.fields as SealableField[])];
  }
  const cacheSize = options.cacheSize ?? 10_000;
  if (typeof cacheSize !== 'number' || !Number.isInteger(cacheSize) || cacheSize < 1 || cacheSize > 10_000_000)
    fail('encryption.cacheSize', `encryption.cacheSize must be an integer from 1 to 10000000; got ${show(cacheSize)}.`);
  return { masterKeys, fields, cacheSize };
}

/** Placing a hold stops deletion: an empty rule (anyone with `scope`) must be said on purpose, not by `holdScope: []`. */
function parseHoldScope(value: unknown): ScopeRule {
  const rule = parseScope(value, 'holdScope');
  if (rule.anyOf.length === 0 && rule.allOf.length === 0) {
    fail('holdScope', `holdScope must name at least one scope a caller needs, like 'legal' or ['+legal']; got ${show(value)}.`);
  }
  return rule;
}

function parseLogger(value: unknown): Logger {
  if (value === undefined) return console;
  const logger = value as Partial<Logger> | null;
  if (typeof logger?.warn !== 'function' || typeof logger.error !== 'function') {
    fail('logger', `logger must have warn() and error() methods, like console or a pino logger; got ${show(value)}.`);
  }
  return logger as Logger;
}

/** Validates every option once and returns the resolved configuration. */
export function parseOptions(input: unknown, env: NodeJS.ProcessEnv = process.env): Config {
  if (typeof input === 'function') {
    // app.use(auditLog) instead of app.use(auditLog()) would treat (req, res, next) as options.
    fail('options', 'auditLog options must be an object; it looks like auditLog itself was passed where auditLog() was meant: app.use(auditLog({ ... })).');
  }
  if (input !== undefined && (typeof input !== 'object' || input === null || Array.isArray(input))) {
    fail('options', `auditLog options must be an object like { ttl: '1d', scope: ['admin'] }; got ${show(input)}.`);
  }
  const options = Object.fromEntries(Object.entries(input ?? {}).filter(([, value]) => value !== undefined)) as AuditCoreOptions;
  for (const name of Object.keys(options)) {
    if (!KNOWN_NAMES.includes(name)) fail(name, `unknown option '${name}'.${didYouMean(name, KNOWN_NAMES)} Known options: ${KNOWN_NAMES.join(', ')}.`);
  }

  const publicRoutes = bool(options, 'publicRoutes', false);
  const scope = parseScope(options.scope);
  if (options.getAuth !== undefined) {
    // getAuth replaces req.auth, so the dotted paths into req.auth would silently do nothing.
    for (const key of ['scopeKey', 'userIdKey'] as const) {
      if (options[key] !== undefined)
        fail(
          key,
          `${key} is a path into req.auth, which getAuth replaces; return the ${key === 'scopeKey' ? 'scopes' : 'user'} from getAuth instead, or remove getAuth.`,
        );
    }
  }
  const spoolDir = options.spoolDir;
  if (spoolDir !== undefined && spoolDir !== false && (typeof spoolDir !== 'string' || spoolDir === '')) {
    fail('spoolDir', `spoolDir must be a directory path or false; got ${show(spoolDir)}.`);
  }
  const durability = parseDurability(options.durability, typeof spoolDir === 'string');
  const defaultLimit = int(options, 'defaultLimit', 20, 1);
  const maxLimit = int(options, 'maxLimit', 1000, 1);
  if (defaultLimit > maxLimit) fail('defaultLimit', `defaultLimit (${defaultLimit}) must not exceed maxLimit (${maxLimit}).`);
  const retryMinDelayMs = int(options, 'retryMinDelayMs', 100, 1);
  const retryMaxDelayMs = int(options, 'retryMaxDelayMs', 30_000, 1);
  if (retryMinDelayMs > retryMaxDelayMs) fail('retryMinDelayMs', `retryMinDelayMs (${retryMinDelayMs}) must not exceed retryMaxDelayMs (${retryMaxDelayMs}).`);

  const actions = parseActions(options.actions);
  const strictActions = bool(options, 'strictActions', false);
  if (strictActions && actions.size === 0)
    fail(
      'strictActions',
      'strictActions: true rejects every action not listed in the actions option, and none is listed; add actions or remove strictActions.',
    );

  const encryption = parseEncryption(options.encryption);
  if (options.eraseScope !== undefined && !encryption)
    fail('eraseScope', 'eraseScope guards erasures, which need the encryption option: add encryption: { masterKey } or remove eraseScope.');

  return {
    enabled: parseEnabled(options, env),
    store: parseStore(options.store),
    ttlSeconds: parseTtl(options.ttl),
    scope,
    scopeKey: dottedPath(options, 'scopeKey', 'scope'),
    userIdKey: dottedPath(options, 'userIdKey', 'sub'),
    getUser: parseFunction(options, 'getUser'),
    getAuth: parseFunction(options, 'getAuth'),
    publicRoutes,
    routes: bool(options, 'routes', true),
    basePath: parseBasePath(options.basePath),
    manualEntries: bool(options, 'manualEntries', true),
    ui: bool(options, 'ui', true),
    methods: parseMethods(options.methods),
    include: parseMatchers(options.include, 'include'),
    exclude: parseMatchers(options.exclude, 'exclude'),
    associations: parseAssociations(options.associations),
    redactKeys: parseRedact(options.redact),
    maxFieldBytes: int(options, 'maxFieldBytes', 64 * 1024, 64, 8 * 1024 * 1024),
    maxDepth: int(options, 'maxDepth', 32, 1, 200),
    defaultLimit,
    maxLimit,
    exportMaxRows: int(options, 'exportMaxRows', 100_000, 1),
    batchSize: int(options, 'batchSize', 100, 1, 10_000),
    flushIntervalMs: int(options, 'flushIntervalMs', 50, 0, 60_000),
    maxQueueEntries: int(options, 'maxQueueEntries', 10_000, 1),
    maxQueueBytes: int(options, 'maxQueueBytes', 32 * 1024 * 1024, 1024),
    retryMinDelayMs,
    retryMaxDelayMs,
    spoolDir: typeof spoolDir === 'string' ? spoolDir : null,
    durability,
    logger: parseLogger(options.logger),
    requestIdHeader: dottedPath(options, 'requestIdHeader', 'x-request-id').toLowerCase(),
    echoRequestId: bool(options, 'echoRequestId', false),
    transform: parseFunction(options, 'transform'),
    actions,
    strictActions,
    integrity: parseIntegrity(options.integrity),
    verifyScope: options.verifyScope === undefined ? null : parseScope(options.verifyScope, 'verifyScope'),
    deliver: parseDeliver(options.deliver, typeof spoolDir === 'string' ? spoolDir : null),
    tenants: parseTenants(options),
    ipAddress: parseIpAddress(options),
    encryption,
    eraseScope: options.eraseScope === undefined ? null : parseScope(options.eraseScope, 'eraseScope'),
    retention: parseRetention(options.retention, { actions, strictActions, didYouMean }),
    holdScope: options.holdScope === undefined ? null : parseHoldScope(options.holdScope),
  };
}
