/** `GET {basePath}/verify`: who may call it, what it accepts, and date ranges. */
import { generateKeyPairSync } from 'node:crypto';
import request from 'supertest';
import { memoryStore, type AuditLogOptions } from 'express-audit-log';
import { ADMIN, createTestApp, token } from '../support/app';
import { tamperableLog } from '../support/tamper';

const { privateKey } = generateKeyPairSync('ed25519');
const integrity = { signingKey: privateKey, checkpointEvery: 5 };

function app(options: AuditLogOptions = {}) {
  return createTestApp({ store: memoryStore(), integrity, ...options });
}

test('integrity off: 404, saying which option turns it on', async () => {
  const { app: server, audit } = createTestApp({ store: memoryStore() });
  const res = await request(server).get('/auditLog/verify').set('Authorization', `Bearer ${ADMIN}`).expect(404);
  expect(res.body.message).toMatch(/needs the integrity option/);
  await audit.close();
});

test('authenticated even with publicRoutes, and verifyScope on top of scope', async () => {
  const { app: open, audit: openAudit } = app({ publicRoutes: true });
  await request(open).get('/auditLog').expect(200);
  await request(open).get('/auditLog/verify').expect(401);
  await openAudit.close();

  const { app: strict, audit } = app({ scope: ['admin'], verifyScope: ['+auditor'] });
  const denied = await request(strict).get('/auditLog/verify').set('Authorization', `Bearer ${ADMIN}`).expect(403);
  expect(denied.body.message).toMatch(/verifying the audit log needs/);
  await request(strict)
    .get('/auditLog/verify')
    .set('Authorization', `Bearer ${token({ sub: 'a', scope: 'auditor' })}`)
    .expect(403); // lacks scope's admin
  await request(strict)
    .get('/auditLog/verify')
    .set('Authorization', `Bearer ${token({ sub: 'a', scope: 'admin auditor' })}`)
    .expect(200);
  await audit.close();
});

test('parameters: only from and to, read like the list route', async () => {
  const { app: server, audit } = app();
  const unknown = await request(server).get('/auditLog/verify?user=bob').set('Authorization', `Bearer ${ADMIN}`).expect(400);
  expect(unknown.body).toMatchObject({ parameter: 'user', message: expect.stringMatching(/accepts only from and to/) });
  const reversed = await request(server).get('/auditLog/verify?from=1h&to=2h').set('Authorization', `Bearer ${ADMIN}`).expect(400);
  expect(reversed.body.parameter).toBe('from');
  await audit.close();
});

test('a date range checks the entries in it: those outside are not missing, a hole inside is', async () => {
  const log = await tamperableLog('memory');
  const store = await log.open();
  let n = 0;
  const twoDaysAgo = Date.now() - 2 * 86_400_000;
  // The first 10 entries are dated two days back.
  const first = createTestApp({ store, integrity, transform: (entry) => Object.assign(entry, n++ < 10 ? { date: new Date(twoDaysAgo + n) } : {}) });
  for (let i = 0; i < 30; i++) first.audit.record(null, { action: 'Job', notes: String(i) });
  await first.audit.close();
  const check = async (query: string) => {
    const { app: server, audit } = app({ store: await log.open() });
    const res = await request(server).get(`/auditLog/verify?${query}`).set('Authorization', `Bearer ${ADMIN}`).expect(200);
    await audit.close();
    return res.body;
  };
  expect(await check('from=1d')).toMatchObject({ ok: true, problems: [], checked: { entries: 20 }, range: { from: expect.any(String), to: null } });
  expect(await check(`to=${new Date(twoDaysAgo + 1000).toISOString()}`)).toMatchObject({ ok: true, problems: [], checked: { entries: 10 } });

  const bySeq = async (seq: number) => (await store.find({ filter: { seq }, sort: [['seq', 1]], skip: 0, limit: 1, select: ['_id'] })).docs[0]!._id!;
  const [old, recent] = [await bySeq(3), await bySeq(25)];
  await log.removeEntry(old);
  await log.removeEntry(recent);
  expect((await check('from=1d')).problems).toEqual([expect.objectContaining({ kind: 'missing', fromSeq: 25, toSeq: 25 })]);
  expect((await check('')).problems).toEqual([
    expect.objectContaining({ kind: 'missing', fromSeq: 3, toSeq: 3 }),
    expect.objectContaining({ kind: 'missing', fromSeq: 25, toSeq: 25 }),
  ]);
});

test('checkpoints written without a key fail a verifier that has one: checkpoint-signature for each', async () => {
  const store = memoryStore();
  const unsigned = createTestApp({ store, integrity: true });
  unsigned.audit.record(null, { action: 'Job' });
  await unsigned.audit.close();
  const { app: server, audit } = app({ store });
  const res = await request(server).get('/auditLog/verify').set('Authorization', `Bearer ${ADMIN}`).expect(200);
  await audit.close();
  expect(res.body.problems.map((p: { kind: string; seq: number }) => [p.kind, p.seq])).toEqual([
    ['checkpoint-signature', 0],
    ['checkpoint-signature', 1],
  ]);
  expect(res.body.problems[0].message).toMatch(/not signed, and a public key is configured/);
});

test('manual entries cannot set chain fields', async () => {
  const { app: server, audit } = app();
  for (const field of ['chain', 'seq', 'prevHash', 'hash']) {
    const res = await request(server)
      .post('/auditLog')
      .set('Authorization', `Bearer ${ADMIN}`)
      .send({ action: 'Note', [field]: 'x' })
      .expect(400);
    expect(res.body).toMatchObject({ parameter: field, message: expect.stringMatching(/set by the server/) });
  }
  await audit.close();
});
