/**
 * Load: 5,000 requests over 50 concurrent keep-alive connections to 127.0.0.1, recorded into
 * MongoDB through the real driver (the in-process wire-protocol server, or MONGODB_URI), give
 * exactly 5,000 entries, each with the fields of the request that made it.
 */
import mongoose from 'mongoose';
import { mongoStore } from 'express-audit-log';
import { USER, createTestApp } from '../support/app';
import { startMongo, stopMongo } from '../support/mongo';
import { until } from '../support/wait';
import { pool, send, serve } from '../pipeline/http-load';

const REQUESTS = 5000;
const CONNECTIONS = 50;

test(`${REQUESTS} requests over ${CONNECTIONS} keep-alive connections: exactly ${REQUESTS} entries, each with the right fields`, async () => {
  const target = await startMongo();
  const connection = await mongoose.createConnection(target.uri, { dbName: target.dbName, serverSelectionTimeoutMS: 5000 }).asPromise();
  const { app, audit } = createTestApp({ store: mongoStore({ connection }), batchSize: 200 });
  const errors: Error[] = [];
  audit.on('error', (error) => errors.push(error));
  const served = await serve(app, CONNECTIONS);
  try {
    const answers = await pool(REQUESTS, CONNECTIONS, async (i) => {
      const model = i % 2 === 0 ? 'role' : 'user';
      const body = { name: `n-${i}`, email: `u${i}@example.com`, i, nested: { tags: [`t${i % 7}`], password: `pw-${i}` } };
      const answer = await send(served, 'POST', `/${model}?via=load&i=${i}`, {
        body,
        headers: { 'x-request-id': `load-${i}`, authorization: `Bearer ${USER}`, 'user-agent': `load/${i}` },
      });
      return { i, model, status: answer.status, requestId: answer.headers['x-request-id'], result: answer.json() as { _id: string } };
    });
    expect(answers.filter((a) => a.status !== 201)).toEqual([]);
    // 50 sockets carried 5,000 requests: keep-alive held.
    expect(served.connections()).toBeLessThanOrEqual(CONNECTIONS);

    await until(() => audit.stats().recorded === REQUESTS, `${REQUESTS} recorded`);
    await audit.flush();
    expect(audit.stats()).toMatchObject({ recorded: REQUESTS, written: REQUESTS, failed: 0, dropped: 0, spooled: 0, queued: 0 });

    const collection = connection.db!.collection('auditLog');
    expect(await collection.countDocuments()).toBe(REQUESTS);
    const docs = await collection.find({}).toArray();
    const byRequestId = new Map(docs.map((doc) => [doc.requestId as string, doc]));
    expect(byRequestId.size).toBe(REQUESTS);

    const wrong: unknown[] = [];
    for (const a of answers) {
      const doc = byRequestId.get(`load-${a.i}`);
      const expected = {
        method: 'POST',
        action: 'Create',
        endpoint: `/${a.model}`,
        collectionName: a.model,
        user: 'user-1',
        statusCode: 201,
        isError: false,
        payload: { name: `n-${a.i}`, email: `u${a.i}@example.com`, i: a.i, nested: { tags: [`t${a.i % 7}`], password: '[REDACTED]' } },
        params: { model: a.model },
        result: { _id: a.result._id, name: `n-${a.i}`, email: `u${a.i}@example.com`, i: a.i, nested: { tags: [`t${a.i % 7}`], password: '[REDACTED]' } },
        documents: [a.result._id],
        userAgent: `load/${a.i}`,
        truncated: null,
      };
      const actual = doc && Object.fromEntries(Object.keys(expected).map((key) => [key, doc[key]]));
      const ok =
        a.requestId === `load-${a.i}` &&
        doc &&
        JSON.stringify(actual) === JSON.stringify(expected) &&
        /127\.0\.0\.1/.test(String(doc.ipAddress)) &&
        doc.date instanceof Date &&
        typeof doc.durationMs === 'number';
      if (!ok) wrong.push({ i: a.i, expected, actual, ipAddress: doc?.ipAddress, date: doc?.date });
    }
    expect(wrong.slice(0, 3)).toEqual([]);
    expect(JSON.stringify(docs)).not.toContain('pw-');
    expect(errors).toEqual([]);
  } finally {
    await served.close();
    await audit.close();
    await connection.close();
    await stopMongo(target);
  }
}, 120_000);
