/**
 * Erasure that keeps the proof, on every store: personal fields are sealed per user, readers see
 * them opened, the raw stored documents never hold them in plaintext, and after an erasure the
 * user's fields are unreadable through every route and the export while verify still passes.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import type { AuditLogOptions, AuditStore } from 'express-audit-log';
import { main } from '../../src/cli';
import { createTestApp, token } from '../support/app';
import { openStore, STORE_KINDS, tempDir, type OpenedStore } from '../support/stores';

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const masterKey = randomBytes(32);
const ADMIN = token({ sub: 'admin-1', scope: 'admin' });
const PRIVACY = token({ sub: 'dpo-1', scope: 'admin privacy' });
const ALICE = token({ sub: 'alice@example.com', scope: 'user' });
const BOB = token({ sub: 'bob@example.com', scope: 'user' });
const SECRET = 'alice-secret-address-221b';

function options(store: AuditStore, extra: AuditLogOptions = {}): AuditLogOptions {
  return { store, scope: ['admin'], eraseScope: ['privacy'], integrity: { signingKey: privateKey, checkpointEvery: 5 }, encryption: { masterKey }, ...extra };
}

/** Every stored entry as the store holds it (its own API, no route, nothing opened). */
async function raw(store: AuditStore) {
  return (await store.find({ filter: {}, sort: [['date', 1]], skip: 0, limit: 1000, select: null })).docs;
}

/** The bytes the store keeps, as a database user would read them: the SQLite files, or the MongoDB documents through the driver. */
async function storedText(opened: OpenedStore): Promise<string> {
  if (opened.kind === 'mongo') {
    const db = opened.connection!.db!;
    const docs = await db.collection('auditLog').find({}).toArray();
    const keys = await db.collection('auditLog.keys').find({}).toArray();
    expect(keys.length).toBeGreaterThan(0);
    return JSON.stringify([docs, keys]);
  }
  if (opened.kind === 'file') {
    const dir = path.dirname((opened.store as unknown as { path: string }).path);
    return fs
      .readdirSync(dir)
      .map((file) => fs.readFileSync(path.join(dir, file)).toString('latin1'))
      .join('\n');
  }
  return JSON.stringify([await raw(opened.store), await opened.store.findDataKeys!({ after: null, limit: 1000 })]);
}

describe.each(STORE_KINDS)('%s store', (kind) => {
  let opened: OpenedStore;
  beforeAll(async () => {
    opened = await openStore(kind);
  });
  afterAll(async () => {
    await opened.cleanup();
  });

  test('sealed at rest, opened for readers, erased for good while verify still passes', async () => {
    const { app, audit } = createTestApp(options(opened.store));
    const created = await request(app)
      .post('/widget')
      .set('Authorization', `Bearer ${ALICE}`)
      .set('User-Agent', 'alice-browser/1.0')
      .send({ name: 'w1', address: SECRET })
      .expect(201);
    await request(app)
      .put(`/widget/${created.body._id}`)
      .set('Authorization', `Bearer ${ALICE}`)
      .set('User-Agent', 'alice-browser/1.0')
      .send({ address: SECRET })
      .expect(200);
    await request(app).post('/widget').set('Authorization', `Bearer ${BOB}`).send({ name: 'bob-widget' }).expect(201);
    await request(app).post('/widget').send({ name: 'anonymous' }).expect(201);
    await audit.flush();

    // At rest: no plaintext of the personal fields, for alice or bob; the blind index and the ciphertext instead.
    const stored = await raw(opened.store);
    expect(stored).toHaveLength(4);
    const atRest = await storedText(opened);
    for (const plain of ['alice@example.com', SECRET, 'alice-browser', 'bob@example.com', 'bob-widget']) expect(atRest).not.toContain(plain);
    const aliceStored = stored.filter((doc) => doc.subject && doc.subject === stored[0]!.subject);
    expect(aliceStored).toHaveLength(2);
    expect(aliceStored[0]).toMatchObject({ user: null, payload: null, userAgent: null, sealed: expect.stringMatching(/^1:[0-9a-f]{24}:/) });
    // No user: nothing to erase it by, so it is stored as it was.
    expect(stored.find((doc) => !doc.sealed)).toMatchObject({ user: null, payload: { name: 'anonymous' } });

    // Readers see the entries opened; ?user= finds the sealed ones through the blind index.
    const alices = (await request(app).get('/auditLog?user=alice@example.com').set('Authorization', `Bearer ${ADMIN}`).expect(200)).body;
    expect(alices.items.total).toBe(2);
    expect(alices.docs[0]).toMatchObject({ user: 'alice@example.com', payload: { address: SECRET }, userAgent: 'alice-browser/1.0' });
    expect(alices.docs[0].erased).toBeUndefined();
    const both = (await request(app).get('/auditLog?user=alice@example.com&user=bob@example.com').set('Authorization', `Bearer ${ADMIN}`).expect(200)).body;
    expect(both.items.total).toBe(3);
    const notAlice = (
      await request(app)
        .get('/auditLog')
        .query({ $where: JSON.stringify({ user: { $ne: 'alice@example.com' } }) })
        .set('Authorization', `Bearer ${ADMIN}`)
        .expect(200)
    ).body;
    expect(notAlice.items.total).toBe(2);
    const selected = (await request(app).get('/auditLog?user=bob@example.com&$select=user&$select=payload').set('Authorization', `Bearer ${ADMIN}`).expect(200))
      .body;
    expect(selected.docs).toEqual([{ _id: expect.any(String), user: 'bob@example.com', payload: { name: 'bob-widget' } }]);

    // The erasure.
    const aliceKeys = (await opened.store.findDataKeys!({ after: null, limit: 100 })).filter((key) => key.subject === aliceStored[0]!.subject);
    expect(aliceKeys).toHaveLength(1);
    expect(await storedText(opened)).toContain(aliceKeys[0]!.wrapped);
    const erased = await request(app).post('/auditLog/erasures').set('Authorization', `Bearer ${PRIVACY}`).send({ user: 'alice@example.com' }).expect(200);
    expect(erased.body.erased).toMatchObject({ entries: 2, keys: 1 });
    await audit.flush();

    // Every route: alice's fields are gone, marked erased; bob's are intact.
    const id = aliceStored[0]!._id!;
    const one = (await request(app).get(`/auditLog/${id}`).set('Authorization', `Bearer ${ADMIN}`).expect(200)).body;
    expect(one).toMatchObject({ _id: id, user: null, payload: null, userAgent: null, ipAddress: null, erased: true, action: 'Create' });
    const list = (await request(app).get('/auditLog?$limit=100').set('Authorization', `Bearer ${ADMIN}`).expect(200)).body;
    expect(list.docs.filter((doc: { erased?: boolean }) => doc.erased)).toHaveLength(2);
    expect(list.docs.find((doc: { user: string }) => doc.user === 'bob@example.com')).toMatchObject({ payload: { name: 'bob-widget' } });
    const history = (await request(app).get(`/auditLog/history/widget/${created.body._id}`).set('Authorization', `Bearer ${ADMIN}`).expect(200)).body;
    expect(history.docs.map((doc: { erased?: boolean; user: unknown }) => [doc.erased, doc.user])).toEqual([
      [true, null],
      [true, null],
    ]);
    const exported = (await request(app).get('/auditLog/export').set('Authorization', `Bearer ${ADMIN}`).expect(200)).text;
    expect(exported).not.toContain(SECRET);
    expect(exported).not.toContain('alice@example.com');
    expect(exported).toContain('bob-widget');
    const csv = (await request(app).get('/auditLog/export?format=csv').set('Authorization', `Bearer ${ADMIN}`).expect(200)).text;
    expect(csv.split('\r\n')[0]).toMatch(/,user,.*,erased$/);
    expect(csv).not.toContain(SECRET);
    expect(csv.split('\r\n').filter((line) => line.endsWith(',true'))).toHaveLength(2);

    // The erasure is itself recorded, by who erased, without alice's plaintext.
    const erasures = (await request(app).get('/auditLog?action=Erase').set('Authorization', `Bearer ${ADMIN}`).expect(200)).body;
    expect(erasures.docs).toEqual([expect.objectContaining({ user: 'dpo-1', result: { entries: 2, keys: 1 } })]);
    expect(JSON.stringify(erasures.docs)).not.toContain('alice');

    // The raw documents hold no plaintext of alice, the erasure entry included; nor does the key store hold her key.
    const afterErasure = await storedText(opened);
    expect(afterErasure).not.toContain('alice@example.com');
    // Not even the wrapped key is left (for the file store: not in a free page, not in the WAL).
    expect(afterErasure).not.toContain(aliceKeys[0]!.wrapped);
    expect((await opened.store.findDataKeys!({ after: null, limit: 100 })).map((key) => key.subject)).not.toContain(aliceStored[0]!.subject);

    // The chain still verifies, online and offline (hashes are over the ciphertext).
    const verify = (await request(app).get('/auditLog/verify').set('Authorization', `Bearer ${ADMIN}`).expect(200)).body;
    expect(verify).toMatchObject({ ok: true, problems: [] });
    expect(verify.checked.entries).toBeGreaterThanOrEqual(5);
    const dir = tempDir('eal-erasure-');
    fs.writeFileSync(path.join(dir, 'export.ndjson'), exported);
    fs.writeFileSync(path.join(dir, 'key.pem'), publicKey.export({ type: 'spki', format: 'pem' }));
    const out: string[] = [];
    const code = await main(
      ['verify', '--file', path.join(dir, 'export.ndjson'), '--public-key', path.join(dir, 'key.pem')],
      (text) => out.push(text),
      (text) => out.push(text),
    );
    expect([code, out.join('\n')]).toEqual([0, expect.stringMatching(/^OK: /)]);
    fs.rmSync(dir, { recursive: true, force: true });
    await audit.close();
  });
});
