/** Bad `retention` and `holdScope` options fail at auditLog() with a stable code, the option's path and what would work. */
import { auditLog, memoryStore, type AuditLogOptions } from 'express-audit-log';

function failure(options: Record<string, unknown>): { code: string; option: string; message: string } {
  try {
    auditLog({ store: memoryStore(), ...options } as AuditLogOptions);
  } catch (error) {
    return error as { code: string; option: string; message: string };
  }
  throw new Error('auditLog() accepted the options');
}

test('an unknown rule field is refused, with a suggestion', () => {
  expect(failure({ retention: [{ acton: 'Login', ttl: '30d' }] })).toMatchObject({
    code: 'EAUDIT_RETENTION',
    option: 'retention[0].acton',
    message: expect.stringMatching(/unknown field 'acton'. Did you mean 'action'\?/),
  });
});

test('a bad ttl is refused like the ttl option, naming the rule', () => {
  expect(failure({ retention: [{ action: 'Login', ttl: '30' }] })).toMatchObject({ code: 'EAUDIT_TTL', option: 'retention[0].ttl' });
  expect(failure({ retention: [{ action: 'Login', ttl: '1M' }] })).toMatchObject({ code: 'EAUDIT_TTL', option: 'retention[0].ttl' });
  expect(failure({ retention: [{ action: 'Login' }] })).toMatchObject({ code: 'EAUDIT_RETENTION', option: 'retention[0].ttl' });
});

test('a rule that can never match is refused: empty, shadowed by an earlier rule, or an action strictActions never records', () => {
  expect(failure({ retention: [{ ttl: '1d' }] })).toMatchObject({ code: 'EAUDIT_RETENTION', message: expect.stringMatching(/match every entry.*ttl option/) });
  expect(
    failure({
      retention: [
        { action: 'Login', ttl: '1d' },
        { action: 'Login', collectionName: 'users', ttl: '2d' },
      ],
    }),
  ).toMatchObject({
    code: 'EAUDIT_RETENTION',
    option: 'retention[1]',
    message: expect.stringMatching(/can never match: retention\[0\]/),
  });
  expect(failure({ actions: { 'user.login': {} }, strictActions: true, retention: [{ action: 'Login', ttl: '1d' }] })).toMatchObject({
    code: 'EAUDIT_RETENTION',
    option: 'retention[0].action',
    message: expect.stringMatching(/never lets be recorded/),
  });
  expect(failure({ retention: { action: 'Login', ttl: '1d' } })).toMatchObject({ code: 'EAUDIT_RETENTION', option: 'retention' });
  expect(failure({ retention: [{ action: '', ttl: '1d' }] })).toMatchObject({ code: 'EAUDIT_RETENTION', option: 'retention[0].action' });
});

test('good rules pass: narrower first, built-in actions under strictActions, ttl 0 keeps', () => {
  const audit = auditLog({
    store: memoryStore(),
    actions: { 'user.login': {} },
    strictActions: true,
    retention: [
      { action: 'user.login', collectionName: 'users', ttl: '90d' },
      { action: 'user.login', ttl: '30d' },
      { action: 'Export', ttl: 0 },
    ],
  });
  return audit.close();
});

test('holdScope must name a scope', () => {
  expect(failure({ holdScope: [] })).toMatchObject({ code: 'EAUDIT_OPTION', option: 'holdScope' });
  expect(failure({ holdScope: '!guest' })).toMatchObject({ code: 'EAUDIT_OPTION', option: 'holdScope' });
  expect(failure({ holdScope: 'two words' })).toMatchObject({ code: 'EAUDIT_OPTION', option: 'holdScope' });
});

test('with integrity on, a rule that expires entries before ttl is reported (verify would call its gaps missing); one at or above ttl is not', async () => {
  const codes = async (retention: AuditLogOptions['retention']) => {
    const audit = auditLog({ store: memoryStore(), integrity: true, ttl: '90d', retention });
    const seen: string[] = [];
    audit.on('error', (error) => void seen.push(error.code));
    await new Promise((resolve) => setImmediate(resolve));
    await audit.close();
    return seen;
  };
  expect(await codes([{ action: 'Login', ttl: '1d' }])).toEqual(['EAUDIT_RETENTION_INTEGRITY']);
  expect(
    await codes([
      { collectionName: 'payments', ttl: '7y' },
      { action: 'Export', ttl: 0 },
    ]),
  ).toEqual([]);
});
