/**
 * `GET /auditLog/history/:collection/:id` lists what happened to one document: entries that name
 * it (as owner or child) and entries whose mongoose changes touched it (`POST /verify-email`
 * changes the user, so it is in the user's history), on every store, and with the real diff plugin.
 */
import express from 'express';
import { expressjwt } from 'express-jwt';
import mongoose from 'mongoose';
import request from 'supertest';
import { ObjectId } from 'bson';
import { auditChanges, auditLog, type AuditEntry } from 'express-audit-log';
import { ADMIN, SECRET, USER, createTestApp, type TestApp } from '../support/app';
import { blankEntry } from '../../src/entry';
import { STORE_KINDS, openStore, type OpenedStore } from '../support/stores';
import { settle } from '../support/wait';

const kinds = process.env.EAL_STORES ? STORE_KINDS.filter((k) => process.env.EAL_STORES!.split(',').includes(k)) : STORE_KINDS;
const now = Date.now();
const MINUTE = 60_000;

function entry(minutesAgo: number, overrides: Partial<AuditEntry>): AuditEntry {
  return {
    ...blankEntry(new ObjectId().toHexString(), new Date(now - minutesAgo * MINUTE)),
    method: 'POST',
    action: 'Create',
    endpoint: '/x',
    user: 'alice',
    statusCode: 201,
    ipAddress: '127.0.0.1',
    durationMs: 1,
    ...overrides,
  };
}

describe.each(kinds)('history on the %s store', (kind) => {
  let opened: OpenedStore;
  let t: TestApp;
  const named = entry(30, { action: 'Update', endpoint: '/users/u1', collectionName: 'users', documents: ['u1'] });
  const asChild = entry(20, {
    action: 'Add',
    endpoint: '/groups/g1/users/u1',
    collectionName: 'groups',
    childCollectionName: 'users',
    documents: ['g1', 'u1'],
  });
  const verify = entry(10, {
    endpoint: '/verify-email',
    collectionName: 'verify-email',
    changes: [
      { collectionName: 'tokens', document: 't9', op: 'delete', path: 'value' },
      { collectionName: 'users', document: 'u1', op: 'update', path: 'emailVerified', from: false, to: true },
    ],
  });
  // The same id, but in another collection's changes, or another document's changes in this collection: not this document.
  const otherCollection = entry(5, { collectionName: 'roles', changes: [{ collectionName: 'roles', document: 'u1', op: 'update', path: 'x', to: 1 }] });
  const otherDocument = entry(4, { collectionName: 'users', changes: [{ collectionName: 'users', document: 'u2', op: 'update', path: 'x', to: 1 }] });

  beforeAll(async () => {
    opened = await openStore(kind);
    t = createTestApp({ store: opened.store, scope: 'admin' });
    await t.audit.flush();
    await opened.store.insertMany([named, asChild, verify, otherCollection, otherDocument]);
  });
  afterAll(async () => {
    await t.audit.close();
    await opened.cleanup();
  });

  const history = (path: string) => request(t.app).get(path).set('Authorization', `Bearer ${ADMIN}`).expect(200);
  const ids = (res: request.Response) => res.body.docs.map((d: AuditEntry) => d._id);

  test('entries naming the document and entries whose changes touched it, newest first', async () => {
    expect(ids(await history('/auditLog/history/users/u1'))).toEqual([verify._id, asChild._id, named._id]);
    expect(ids(await history('/auditLog/history/tokens/t9'))).toEqual([verify._id]);
    expect(ids(await history('/auditLog/history/roles/u1'))).toEqual([otherCollection._id]);
  });

  test('list parameters still apply', async () => {
    expect(ids(await history('/auditLog/history/users/u1?action=Create'))).toEqual([verify._id]);
    expect((await history('/auditLog/history/users/u1?$count=true')).body).toBe(3);
  });
});

// The scenario end to end: a route that changes a user through mongoose, with the diff plugin.
test("a request that changed a user through mongoose is in that user's history (MongoDB store, auditChanges plugin)", async () => {
  const opened = await openStore('mongo');
  const connection = opened.connection!;
  const schema = new mongoose.Schema({ email: String, emailVerified: Boolean });
  schema.plugin(auditChanges);
  const User = connection.model('User', schema);
  const audit = auditLog({ store: opened.store, scope: 'admin' });
  const app = express();
  app.use(express.json());
  app.use(expressjwt({ secret: SECRET, algorithms: ['HS256'], credentialsRequired: false }));
  app.use(audit);
  app.post('/verify-email', async (_req, res) => {
    const user = await User.findOneAndUpdate({ email: 'a@b.c' }, { emailVerified: true }, { new: true });
    res.json({ verified: user!.emailVerified });
  });
  const t = { app, audit };
  try {
    const user = await User.create({ email: 'a@b.c', emailVerified: false });
    await request(t.app).post('/verify-email').set('Authorization', `Bearer ${USER}`).send({ token: 'x' }).expect(200);
    await settle(t.audit, 1);
    const res = await request(t.app).get(`/auditLog/history/users/${user.id}`).set('Authorization', `Bearer ${ADMIN}`).expect(200);
    expect(res.body.docs).toEqual([
      expect.objectContaining({
        endpoint: '/verify-email',
        user: 'user-1',
        changes: [expect.objectContaining({ collectionName: 'users', document: user.id, path: 'emailVerified', to: true })],
      }),
    ]);
  } finally {
    await t.audit.close();
    await opened.cleanup();
  }
});
