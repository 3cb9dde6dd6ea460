/**
 * Reads write what is queued first (read-your-writes), but only up to a deadline: a store whose
 * inserts stall must not hang every read. Against the wire-protocol server, which holds insert
 * replies on cue while finds still answer.
 */
import mongoose from 'mongoose';
import request from 'supertest';
import { mongoStore } from 'express-audit-log';
import { ADMIN, USER, createTestApp, type TestApp } from '../support/app';
import { startMongo, stopMongo, type MongoTarget } from '../support/mongo';
import { settle, until } from '../support/wait';

(process.env.MONGODB_URI ? describe.skip : describe)('reads while the store stalls', () => {
  let target: MongoTarget;
  let connection: mongoose.Connection;
  let t: TestApp;

  beforeAll(async () => {
    target = await startMongo();
    connection = await mongoose.createConnection(target.uri, { dbName: target.dbName, serverSelectionTimeoutMS: 500 }).asPromise();
    t = createTestApp({ store: mongoStore({ connection }), scope: 'admin' });
    await t.audit.flush(); // the store has started
  });
  afterAll(async () => {
    target.server!.faults.clear();
    await t.audit.close(1000);
    await connection.close();
    await stopMongo(target);
  });

  test('list, count, one entry, history and export answer while the writer waits on a held insert; the writer carries on once the store replies', async () => {
    const inserts: string[] = [];
    target.server!.on('command', (event: { name: string }) => {
      if (event.name === 'insert') inserts.push(event.name);
    });
    target.server!.faults.delay(600_000, { command: 'insert' });
    await request(t.app).post('/role').set('Authorization', `Bearer ${USER}`).send({ name: 'held' }).expect(201);
    await until(() => inserts.length > 0, 'the insert to reach the server'); // the writer is now stuck on it

    const as = (path: string) => request(t.app).get(path).set('Authorization', `Bearer ${ADMIN}`);
    // The server ran the insert and holds only its reply, so the entry may already be readable: the point is that reads answer.
    await as('/auditLog').expect(200);
    await as('/auditLog?$count=true').expect(200);
    await as('/auditLog/0123456789abcdef01234567').expect(404);
    await as('/auditLog/history/role/x').expect(200);
    await as('/auditLog/export').expect(200);

    target.server!.faults.clear(); // releases the held reply
    await settle(t.audit, 1);
    expect((await as('/auditLog?collectionName=role').expect(200)).body.docs).toEqual([expect.objectContaining({ action: 'Create', endpoint: '/role' })]);
  }, 20_000);
});
