/** Default redaction: which keys are secrets, through the recorder and over HTTP. */
import express from 'express';
import request from 'supertest';
import { auditLog, memoryStore, DEFAULT_REDACT_KEYS, type AuditEntry } from 'express-audit-log';
import { keyWords, secretKeyMatcher } from '../../src/capture/redact';

const SECRET_KEYS = [
  'pwd',
  'passphrase',
  'pass',
  'otp',
  'pin',
  'accessKey',
  'access_key',
  'access-key',
  'AWS_ACCESS_KEY_ID',
  'auth',
  'x-auth',
  'basicAuth',
  'userPin',
  'PIN',
  'pin_code',
  'pinCode',
  'otpCode',
  'otp2',
  'passcode',
  'newPassword',
  'client_secret',
  'X-Api-Key',
  'refreshToken',
  'Authorization',
  'cvv2',
  'recipientIban',
];
const PLAIN_KEYS = [
  'author',
  'authority',
  'authors',
  'passenger',
  'passengers',
  'pinned',
  'spinner',
  'opinion',
  'shipping',
  'compass',
  'bypass',
  'topic',
  'options',
  'authenticated',
  'name',
  'email',
];

describe('secretKeyMatcher with the default words', () => {
  const isSecret = secretKeyMatcher(new Set(DEFAULT_REDACT_KEYS));

  test.each(SECRET_KEYS)('%s is a secret', (key) => {
    expect(isSecret(key)).toBe(true);
  });

  test.each(PLAIN_KEYS)('%s is not a secret', (key) => {
    expect(isSecret(key)).toBe(false);
  });

  test('keys are split at camelCase humps, acronyms, digits and separators', () => {
    expect(keyWords('userPIN2_code')).toEqual(['user', 'pin', '2', 'code']);
    expect(keyWords('APIKey')).toEqual(['api', 'key']);
    expect(keyWords('x-auth.token')).toEqual(['x', 'auth', 'token']);
  });

  test('a short custom word matches whole words too; a long one anywhere', () => {
    const custom = secretKeyMatcher(new Set(['ssn', 'salary']));
    expect(['ssn', 'userSSN', 'ssn_last4'].map(custom)).toEqual([true, true, true]);
    expect(['lessness', 'classname'].map(custom)).toEqual([false, false]);
    expect(custom('baseSalaryUsd')).toBe(true);
  });
});

test('over HTTP: the new default words are redacted in the stored payload, look-alike keys are kept', async () => {
  const store = memoryStore();
  const audit = auditLog({ store });
  const app = express();
  app.use(express.json());
  app.use(audit);
  app.post('/signup', (_req, res) => {
    res.status(201).json({ ok: true });
  });
  const body: Record<string, string> = {};
  for (const key of [...SECRET_KEYS, ...PLAIN_KEYS]) body[key] = `value-of-${key}`;
  await request(app).post('/signup').send({ profile: body }).expect(201);
  await audit.flush();
  const [entry] = (await store.find({ filter: {}, sort: [['date', 1]], skip: 0, limit: 10, select: null })).docs as AuditEntry[];
  const stored = (entry!.payload as { profile: Record<string, string> }).profile;
  for (const key of SECRET_KEYS) expect({ key, value: stored[key] }).toEqual({ key, value: '[REDACTED]' });
  for (const key of PLAIN_KEYS) expect({ key, value: stored[key] }).toEqual({ key, value: `value-of-${key}` });
  await audit.close();
});
