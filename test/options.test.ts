/** Options are validated once, at auditLog(): a bad one throws AuditLogConfigError naming it and what would work. */
import { auditLog, memoryStore, AuditLogConfigError } from 'express-audit-log';
import { parseOptions } from '../src/options';
import { parseTtl } from '../src/ttl';

function configError(make: () => unknown): AuditLogConfigError {
  try {
    make();
  } catch (error) {
    expect(error).toBeInstanceOf(AuditLogConfigError);
    return error as AuditLogConfigError;
  }
  throw new Error('expected an AuditLogConfigError');
}

describe('ttl', () => {
  test.each([
    ['1d', 86_400],
    ['12h', 43_200],
    ['90s', 90],
    ['1.5h', 5400],
    ['2 weeks', 1_209_600],
    [60, 60],
    [3600, 3600],
    [undefined, null],
    [null, null],
    [0, null],
  ])('%p → %p seconds', (value, seconds) => {
    expect(parseTtl(value)).toBe(seconds);
  });

  test.each([
    ['3600', /no unit.*milliseconds.*3600s/],
    ['60', /no unit/],
    ['1 fortnight', /not a duration/],
    ['1M', /'M' is ambiguous/],
    [-5, /positive/],
    ['-5m', /positive/],
    [NaN, /positive/],
    ['10ms', /under one second/],
    [{}, /number of seconds or a duration/],
  ])('%p is refused', (value, message) => {
    const error = configError(() => parseTtl(value));
    expect(error.option).toBe('ttl');
    expect(error.code).toBe('EAUDIT_TTL');
    expect(error.message).toMatch(message);
  });
});

describe('auditLog() options', () => {
  test('unknown option names suggest the closest known one', () => {
    const error = configError(() => auditLog({ store: memoryStore(), scopes: ['admin'] } as never));
    expect(error.option).toBe('scopes');
    expect(error.message).toMatch(/Did you mean 'scope'\?/);
    expect(configError(() => auditLog({ store: memoryStore(), tll: '1d' } as never)).message).toMatch(/Did you mean 'ttl'/);
  });

  test('app.use(auditLog) instead of auditLog() is caught', () => {
    expect(configError(() => auditLog(auditLog as never)).message).toMatch(/auditLog\(\{ \.\.\. \}\)/);
  });

  test.each([
    [{ scope: 'has space' }, 'scope'],
    [{ scope: [''] }, 'scope'],
    [{ getAuth: { user: 'x' } }, 'getAuth'],
    [{ getAuth: (): null => null, scopeKey: 'roles' }, 'scopeKey'],
    [{ getAuth: (): null => null, userIdKey: 'id' }, 'userIdKey'],
    [{ methods: ['FETCH'] }, 'methods'],
    [{ methods: [] }, 'methods'],
    [{ maxFieldBytes: '64kb' }, 'maxFieldBytes'],
    [{ defaultLimit: 50, maxLimit: 10 }, 'defaultLimit'],
    [{ basePath: 'auditLog' }, 'basePath'],
    [{ basePath: '/audit/' }, 'basePath'],
    [{ associations: { user: 'MANY_MANY' } }, 'associations.user'],
    [{ associations: { 'user.groups': 'MANY' } }, 'associations.user.groups'],
    [{ redact: 'password' }, 'redact'],
    [{ include: ['health'] }, 'include'],
    [{ enabled: 'false' }, 'enabled'],
    [{ store: {} }, 'store'],
    [{ getUser: 'sub' }, 'getUser'],
    [{ logger: {} }, 'logger'],
    [{ retryMinDelayMs: 10, retryMaxDelayMs: 5 }, 'retryMinDelayMs'],
  ])('%j is refused, naming %s', (options, option) => {
    const error = configError(() => parseOptions({ store: memoryStore(), ...options }));
    expect(error.option).toBe(option);
    expect(error.message).toMatch(/express-audit-log: /);
  });

  test('defaults', () => {
    const config = parseOptions({}, {});
    expect(config).toMatchObject({
      enabled: true,
      store: null,
      ttlSeconds: null,
      scopeKey: 'scope',
      userIdKey: 'sub',
      publicRoutes: false,
      basePath: '/auditLog',
      maxFieldBytes: 65_536,
      defaultLimit: 20,
      maxLimit: 1000,
      manualEntries: true,
    });
    expect([...config.methods]).toEqual(['POST', 'PUT', 'PATCH', 'DELETE']);
    expect(config.redactKeys.has('password')).toBe(true);
  });

  test('AUDIT_LOG_ENABLED must be a boolean word', () => {
    expect(parseOptions({}, { AUDIT_LOG_ENABLED: 'off' }).enabled).toBe(false);
    expect(parseOptions({}, { AUDIT_LOG_ENABLED: 'true' }).enabled).toBe(true);
    expect(parseOptions({ enabled: false }, { AUDIT_LOG_ENABLED: 'true' }).enabled).toBe(false);
    expect(configError(() => parseOptions({}, { AUDIT_LOG_ENABLED: 'nope' })).option).toBe('AUDIT_LOG_ENABLED');
  });
});

describe('integrity and verifyScope', () => {
  const { generateKeyPairSync } = require('node:crypto') as typeof import('node:crypto');
  const ed = generateKeyPairSync('ed25519');
  const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
  const pem = (key: import('node:crypto').KeyObject) => key.export({ type: key.type === 'private' ? 'pkcs8' : 'spki', format: 'pem' }) as string;

  test.each([
    [{ integrity: 'yes' }, 'integrity', /must be true, false or an object/],
    [{ integrity: { signingkey: 'x' } }, 'integrity.signingkey', /Did you mean 'signingKey'/],
    [{ integrity: { signingKey: 'not a key' } }, 'integrity.signingKey', /Ed25519 private key .*got a string that is not a PEM key.*generateKeyPairSync/],
    [{ integrity: { signingKey: pem(ed.publicKey) } }, 'integrity.signingKey', /got a public key PEM/],
    [{ integrity: { signingKey: rsa.privateKey } }, 'integrity.signingKey', /must be an Ed25519 key; got a rsa key/],
    [{ integrity: { publicKey: pem(rsa.publicKey) } }, 'integrity.publicKey', /must be an Ed25519 key; got a rsa key/],
    [{ integrity: { checkpointEvery: 0 } }, 'integrity.checkpointEvery', /integer from 1/],
    [{ integrity: { checkpointIntervalMs: 10 } }, 'integrity.checkpointIntervalMs', /integer from 100/],
    [{ verifyScope: 'two words' }, 'verifyScope', /verifyScope entries must/],
  ])('%j is refused, naming %s', (options, option, message) => {
    const error = configError(() => parseOptions({ store: memoryStore(), ...(options as object) }));
    expect(error.option).toBe(option);
    expect(error.message).toMatch(message);
  });

  test('keys as PEM or KeyObject; the signing key verifies its own checkpoints unless public keys are listed; off by default', () => {
    expect(parseOptions({}, {}).integrity).toBeNull();
    expect(parseOptions({ integrity: false }, {}).integrity).toBeNull();
    expect(parseOptions({ integrity: true }, {}).integrity).toMatchObject({ signer: null, checkpointEvery: 1000, checkpointIntervalMs: 60_000 });
    expect(parseOptions({ integrity: true }, {}).integrity!.publicKeys.size).toBe(0);
    const signing = parseOptions({ integrity: { signingKey: pem(ed.privateKey) } }, {}).integrity!;
    expect([...signing.publicKeys.keys()]).toEqual([signing.signer!.keyId]);
    const other = generateKeyPairSync('ed25519').publicKey;
    const rotation = parseOptions({ integrity: { signingKey: ed.privateKey, publicKey: [ed.publicKey, pem(other)] } }, {}).integrity!;
    expect(rotation.publicKeys.size).toBe(2);
    expect(parseOptions({ verifyScope: ['+auditor'] }, {}).verifyScope).toEqual({ anyOf: [], allOf: ['auditor'], noneOf: [] });
  });
});

describe('tenant and ipAddress options', () => {
  test.each([
    [{ getTenant: 'org' }, 'getTenant', /must be a function/],
    [{ tenantScope: 'auditor' }, 'tenantScope', /without getTenant/],
    [{ getTenant: () => 'a', tenantScope: ['has space'] }, 'tenantScope', /without spaces/],
    [{ ipAddress: 'hash' }, 'ipAddress', /Did you mean 'hashed'\?/],
    [{ ipAddress: true }, 'ipAddress', /'full', 'truncated', 'hashed' or false/],
    [{ ipAddress: 'hashed' }, 'ipHashKey', /needs ipHashKey.*randomBytes/],
    [{ ipAddress: 'hashed', ipHashKey: 'short' }, 'ipHashKey', /at least 16 bytes.*got 5 bytes/],
    [{ ipAddress: 'hashed', ipHashKey: 42 }, 'ipHashKey', /string or Buffer/],
    [{ ipHashKey: 'a-key-of-at-least-16-bytes' }, 'ipHashKey', /ipAddress: 'hashed'/],
  ])('%j is refused, naming %s', (options, option, message) => {
    const error = configError(() => parseOptions({ store: memoryStore(), ...options }));
    expect(error.option).toBe(option);
    expect(error.message).toMatch(message);
  });

  test('defaults: no tenants, full addresses; a Buffer key is copied', () => {
    const config = parseOptions({}, {});
    expect(config.tenants).toBeNull();
    expect(config.ipAddress).toEqual({ mode: 'full', key: null });
    expect(parseOptions({ ipAddress: false }, {}).ipAddress.mode).toBe('none');
    const key = Buffer.from('0123456789abcdef');
    const hashed = parseOptions({ ipAddress: 'hashed', ipHashKey: key }, {}).ipAddress;
    key.fill(0);
    expect(hashed.key?.toString()).toBe('0123456789abcdef');
  });
});
