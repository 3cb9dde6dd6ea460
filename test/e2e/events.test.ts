/**
 * Issue 7 end to end, over real HTTP, on the memory store and on MongoDB: a custom action, an
 * audited service function and the diff plugin in one app; a request and everything it
 * caused listed together by requestId, and by document in the history route.
 */
import express from 'express';
import mongoose from 'mongoose';
import request from 'supertest';
import { audited, auditChanges, auditLog, memoryStore, type AuditEntry, type AuditLogMiddleware } from 'express-audit-log';
import { ADMIN, token } from '../support/app';
import { openStore, type OpenedStore } from '../support/stores';
import { settle } from '../support/wait';
import { appWith } from '../events/helpers';

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const TRACEPARENT = `00-${TRACE_ID}-b7ad6b7169203331-01`;
const EDITOR = token({ sub: 'editor-7', scope: 'editor' });

interface Book {
  title: string;
  status: string;
  isbn?: string;
  apiToken?: string;
}

describe.each(['memory', 'mongo'] as const)('custom events, audited functions and diffs on the %s store', (kind) => {
  let models: OpenedStore;
  let auditStore: OpenedStore | null = null;
  let audit: AuditLogMiddleware;
  let app: express.Express;
  let Book: mongoose.Model<Book>;
  let count = 0;

  beforeAll(async () => {
    models = await openStore('mongo');
    if (kind === 'mongo') auditStore = models;
    const schema = new mongoose.Schema<Book>({ title: String, status: String, isbn: String, apiToken: String }, { timestamps: true });
    schema.plugin(auditChanges);
    Book = models.connection!.model<Book>('Book', schema);
    audit = auditLog({
      echoRequestId: true,
      store: auditStore?.store ?? memoryStore(),
      scope: ['admin'],
      actions: { 'book.publish': { message: '{user} published {collectionName} {documents.0}' }, Login: {} },
    });
    // A service function, audited once at module level, with no audit handle: it uses the request's.
    const publish = audited(async (id: string) => Book.findByIdAndUpdate(id, { status: 'published' }, { returnDocument: 'after' }).lean(), {
      action: 'book.publish.service',
      collectionName: 'books',
      documents: ([id]) => [id],
    });
    app = appWith(audit, (app) => {
      app.post('/books', async (req, res) => res.status(201).json(await Book.create(req.body)));
      app.put('/books/:id', async (req, res) => res.json(await Book.findByIdAndUpdate(req.params.id, req.body, { returnDocument: 'after' })));
      app.patch('/books/:id', async (req, res) => {
        const book = await Book.findById(req.params.id);
        if (!book) return void res.status(404).json({ message: 'not found' });
        book.set(req.body);
        res.json(await book.save());
      });
      app.delete('/books/:id', async (req, res) => {
        await Book.deleteOne({ _id: req.params.id });
        res.status(204).end();
      });
      app.post('/books/:id/publish', async (req, res) => {
        const id = req.params.id as string;
        auditLog.annotate(req, { action: 'book.publish', collectionName: 'books', documents: [id] });
        res.json(await publish(id));
      });
      // Work the route leaves running after it answered: its diffs cannot join the entry any more.
      app.post('/books/:id/touch-later', (req, res) => {
        const id = req.params.id as string;
        res.status(202).json({ queued: true });
        res.on('finish', () => setImmediate(() => void Book.updateOne({ _id: id }, { $set: { status: 'touched' } }).exec()));
      });
      app.post('/login', (req, res) => {
        const ok = req.body.password === 'open sesame';
        audit.record(req, { action: 'Login', user: req.body.username, isError: !ok });
        res.status(ok ? 200 : 401).json({ ok });
      });
    });
  });

  afterAll(async () => {
    await audit.close();
    await models.cleanup();
  });

  async function listed(query: Record<string, string>, path = '/auditLog'): Promise<AuditEntry[]> {
    const res = await request(app).get(path).query(query).set('Authorization', `Bearer ${ADMIN}`);
    expect(res.status).toBe(200);
    return res.body.docs;
  }

  /** Sends a request, waits for `entries` more entries, returns the response and the entries of its request id. */
  async function send(make: (agent: request.Agent) => request.Test, entries = 1) {
    const res = await make(request.agent(app).set('Authorization', `Bearer ${EDITOR}`).set('traceparent', TRACEPARENT));
    count += entries;
    await settle(audit, count);
    const requestId = res.headers['x-request-id'] as string;
    return { res, requestId, entries: await listed({ requestId, $sort: 'date' }) };
  }

  async function createBook(title: string): Promise<string> {
    const { res } = await send((a) => a.post('/books').send({ title, status: 'draft', apiToken: 'tok-1' }));
    return res.body._id;
  }

  test('an update through findByIdAndUpdate: the request entry carries what changed, secrets redacted', async () => {
    const id = await createBook('Dune');
    const { entries } = await send((a) => a.put(`/books/${id}`).send({ title: 'Dune (2nd ed.)', apiToken: 'tok-2' }));
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ method: 'PUT', action: 'Update', user: 'editor-7', traceId: TRACE_ID, documents: [id] });
    expect(entries[0]!.changes).toEqual([
      { collectionName: 'books', document: id, op: 'update', path: 'title', from: 'Dune', to: 'Dune (2nd ed.)' },
      { collectionName: 'books', document: id, op: 'update', path: 'apiToken', from: '[REDACTED]', to: '[REDACTED]' },
    ]);
  });

  test('a save of a loaded document and a delete', async () => {
    const id = await createBook('Emma');
    const saved = await send((a) => a.patch(`/books/${id}`).send({ status: 'review', isbn: '978-0' }));
    expect(saved.entries[0]!.changes).toEqual([
      expect.objectContaining({ path: 'status', from: 'draft', to: 'review' }),
      expect.objectContaining({ path: 'isbn', to: '978-0' }),
    ]);
    expect(saved.entries[0]!.changes![1]).not.toHaveProperty('from');
    const deleted = await send((a) => a.delete(`/books/${id}`));
    expect(deleted.entries[0]).toMatchObject({ method: 'DELETE', action: 'Delete', statusCode: 204 });
    expect(deleted.entries[0]!.changes!.map((c) => [c.op, c.path])).toEqual(
      expect.arrayContaining([
        ['delete', 'title'],
        ['delete', 'status'],
        ['delete', 'isbn'],
        ['delete', 'apiToken'],
      ]),
    );
  });

  test('a request and the audited function it called are listed together by requestId, with one user and trace id', async () => {
    const id = await createBook('Middlemarch');
    const { res, requestId, entries } = await send((a) => a.post(`/books/${id}/publish`), 2);
    expect(res.status).toBe(200);
    expect(entries.map((e) => [e.action, e.method, e.user, e.traceId])).toEqual([
      ['book.publish.service', null, 'editor-7', TRACE_ID],
      ['book.publish', 'POST', 'editor-7', TRACE_ID],
    ]);
    const [call, req] = entries as [AuditEntry, AuditEntry];
    expect(call).toMatchObject({ collectionName: 'books', documents: [id], payload: { args: [id] }, isError: false, requestId });
    expect(call.result).toMatchObject({ status: 'Success', value: { _id: id, status: 'published' } });
    expect(call.durationMs).toEqual(expect.any(Number));
    // The diff made inside the audited call belongs to the request's entry.
    expect(req.message).toBe(`editor-7 published books ${id}`);
    expect(req.changes).toEqual([expect.objectContaining({ path: 'status', from: 'draft', to: 'published' })]);
    expect(call.changes).toBeNull();

    const searched = await listed({ $term: `published books ${id}` });
    expect(searched.map((e) => e._id)).toEqual([req._id]);
    const changedStatus = await listed({ $where: JSON.stringify({ 'changes.document': id, 'changes.path': 'status' }) });
    expect(changedStatus.map((e) => e._id)).toEqual([req._id]);
    const history = await listed({ $sort: 'date' }, `/auditLog/history/books/${id}`);
    expect(history.map((e) => e.action)).toEqual(['Create', 'book.publish.service', 'book.publish']);
  });

  test('diffs made after the response finished become an entry of their own, under the same request id', async () => {
    const id = await createBook('Ulysses');
    const { requestId } = await send((a) => a.post(`/books/${id}/touch-later`), 2);
    const entries = await listed({ requestId, $sort: 'date' });
    expect(entries.map((e) => [e.action, e.method])).toEqual([
      ['Add', 'POST'],
      ['Update', null],
    ]);
    expect(entries[0]!.changes).toBeNull();
    expect(entries[1]).toMatchObject({ user: 'editor-7', collectionName: 'books', documents: [id] });
    expect(entries[1]!.changes).toEqual([expect.objectContaining({ path: 'status', from: 'draft', to: 'touched' })]);
  });

  test('a custom Login event: failed attempts are marked and filterable', async () => {
    const bad = await send((a) => a.post('/login').send({ username: 'mallory', password: 'guess' }), 2);
    expect(bad.res.status).toBe(401);
    const events = await listed({ action: 'Login', isError: 'true' });
    expect(events.map((e) => [e.user, e.requestId, e.payload])).toEqual([['mallory', bad.requestId, null]]);
  });
});
