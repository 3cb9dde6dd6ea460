/**
 * A request's audit context when nothing reads contexts yet (no audited function, no mongoose
 * plugin, no runWithContext): the recorder then makes none, and a record(req, …) made during the
 * request makes one on demand with the recorder's request id. Its own file because "something
 * reads contexts" is process-wide and, once true, stays true for the rest of a test file.
 */
import express from 'express';
import request from 'supertest';
import { auditLog, memoryStore } from 'express-audit-log';
import { contextConsumed } from '../../src/events/context';
import { stored } from './helpers';

test("record(req) during a recorded request shares the request id of the request's entry and header", async () => {
  expect(contextConsumed()).toBe(false); // the case under test: nothing in this file reads contexts
  const audit = auditLog({ store: memoryStore(), echoRequestId: true });
  const app = express();
  app.use(express.json());
  app.use(audit);
  app.post('/approve/:id', (req, res) => {
    audit.record(req, { action: 'Approve', documents: [req.params.id] });
    res.status(201).json({ _id: req.params.id });
  });
  const res = await request(app).post('/approve/a1').send({}).expect(201);
  const requestId = res.headers['x-request-id'];
  expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
  const entries = await stored(audit, 2);
  expect(entries.map((e) => [e.action, e.requestId])).toEqual(
    expect.arrayContaining([
      ['Approve', requestId],
      ['Create', requestId],
    ]),
  );
  expect(contextConsumed()).toBe(false);
  await audit.close();
});

test('an incoming X-Request-Id is kept for both entries', async () => {
  const audit = auditLog({ store: memoryStore(), echoRequestId: true });
  const app = express();
  app.use(audit);
  app.delete('/things/:id', (req, res) => {
    audit.record(req, { action: 'Archive' });
    res.json({ _id: req.params.id });
  });
  await request(app).delete('/things/t1').set('X-Request-Id', 'support-ticket-7').expect(200).expect('X-Request-Id', 'support-ticket-7');
  const entries = await stored(audit, 2);
  expect(entries.map((e) => e.requestId)).toEqual(['support-ticket-7', 'support-ticket-7']);
  await audit.close();
});
