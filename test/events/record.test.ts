/** audit.record(): custom events through the same pipeline, with registered actions and their messages. */
import express from 'express';
import request from 'supertest';
import { auditLog, memoryStore, AuditLogConfigError, type AuditLogMiddleware } from 'express-audit-log';
import { ADMIN, token } from '../support/app';
import { appWith, stored, thrownBy } from './helpers';

const TRACE = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('record(null, event) outside a request', () => {
  let audit: AuditLogMiddleware;
  afterEach(() => audit.close());

  test('stores the event with the fields given and nulls for HTTP ones, and returns its id', async () => {
    audit = auditLog({ store: memoryStore() });
    const id = audit.record(null, {
      action: 'Export',
      collectionName: 'invoices',
      documents: ['a1', 42],
      notes: 'monthly',
      user: 'job:nightly',
      payload: { format: 'csv' },
      result: { rows: 3 },
    });
    expect(id).toMatch(/^[0-9a-f]{24}$/);
    const [entry] = await stored(audit, 1);
    expect(entry).toMatchObject({
      _id: id,
      action: 'Export',
      collectionName: 'invoices',
      documents: ['a1', '42'],
      notes: 'monthly',
      user: 'job:nightly',
      payload: { format: 'csv' },
      result: { rows: 3 },
      method: null,
      endpoint: null,
      statusCode: null,
      isError: false,
      requestId: null,
      traceId: null,
      ipAddress: null,
      message: null,
      changes: null,
      truncated: null,
    });
    expect(entry!.date).toBeInstanceOf(Date);
  });

  test('redacts secrets and caps large values like request payloads', async () => {
    audit = auditLog({ store: memoryStore(), maxFieldBytes: 1024 });
    audit.record(null, { action: 'Login', payload: { username: 'ann', password: 'hunter2', nested: { apiKey: 'k' } }, result: { blob: 'x'.repeat(5000) } });
    const [entry] = await stored(audit, 1);
    expect(entry!.payload).toEqual({ username: 'ann', password: '[REDACTED]', nested: { apiKey: '[REDACTED]' } });
    expect(entry!.result).toMatch(/^\[Truncated/);
    expect(entry!.truncated).toEqual(['result']);
  });

  test('inside runWithContext, the context supplies user and requestId', async () => {
    audit = auditLog({ store: memoryStore() });
    audit.runWithContext({ user: 'job:reindex', requestId: 'job-42' }, () => audit.record(null, { action: 'Reindex' }));
    const [entry] = await stored(audit, 1);
    expect(entry).toMatchObject({ user: 'job:reindex', requestId: 'job-42' });
  });
});

describe('registered actions and messages', () => {
  let audit: AuditLogMiddleware;
  afterEach(() => audit.close());

  test('the template is rendered from the stored entry; missing placeholders render empty', async () => {
    audit = auditLog({
      store: memoryStore(),
      actions: {
        'record.publish': { message: '{user} published {collectionName} {documents.0}' },
        'record.odd': { message: 'by {user}, note [{notes}], extra [{payload.missing.deep}], {result}' },
      },
    });
    audit.record(null, { action: 'record.publish', user: 'ann', collectionName: 'books', documents: ['b1'] });
    audit.record(null, { action: 'record.odd', result: { n: 1 } });
    const entries = await stored(audit, 2);
    expect(entries.map((e) => e.message)).toEqual(['ann published books b1', 'by , note [], extra [], {"n":1}']);
  });

  test('a placeholder never reveals a redacted value', async () => {
    audit = auditLog({ store: memoryStore(), actions: { 'user.reset': { message: '{user} reset to {payload.password}' } } });
    audit.record(null, { action: 'user.reset', user: 'ann', payload: { password: 'hunter2' } });
    const [entry] = await stored(audit, 1);
    expect(entry!.message).toBe('ann reset to [REDACTED]');
  });

  test('a failed attempt gets the failureMessage template, or no message rather than an untrue one', async () => {
    audit = auditLog({
      store: memoryStore(),
      actions: { Login: { message: '{user} signed in', failureMessage: '{user} failed to sign in' }, Approve: { message: '{user} approved' } },
    });
    audit.record(null, { action: 'Login', user: 'ann' });
    audit.record(null, { action: 'Login', user: 'eve', isError: true });
    audit.record(null, { action: 'Approve', user: 'eve', isError: true });
    const entries = await stored(audit, 3);
    expect(entries.map((e) => e.message)).toEqual(['ann signed in', 'eve failed to sign in', null]);
  });

  test('a message given to record() wins over the template', async () => {
    audit = auditLog({ store: memoryStore(), actions: { Approve: { message: 'approved' } } });
    audit.record(null, { action: 'Approve', message: 'approved by the board' });
    const [entry] = await stored(audit, 1);
    expect(entry!.message).toBe('approved by the board');
  });

  test('an unregistered action is accepted by default', async () => {
    audit = auditLog({ store: memoryStore(), actions: { Approve: {} } });
    expect(audit.record(null, { action: 'Whatever' })).toEqual(expect.any(String));
    const [entry] = await stored(audit, 1);
    expect(entry).toMatchObject({ action: 'Whatever', message: null });
  });

  test('strictActions: an unregistered action throws a coded error at the call and records nothing', async () => {
    audit = auditLog({ store: memoryStore(), actions: { Approve: {} }, strictActions: true });
    const thrown = thrownBy(() => audit.record(null, { action: 'Aprove' }));
    expect(thrown).toBeInstanceOf(AuditLogConfigError);
    expect(thrown).toMatchObject({ code: 'EAUDIT_UNKNOWN_ACTION', option: 'action' });
    expect((thrown as Error).message).toMatch(/Aprove.*known: Approve/);
    expect(audit.record(null, { action: 'Approve' })).toEqual(expect.any(String));
    await stored(audit, 1);
    expect(audit.stats().recorded).toBe(1);
  });

  test.each([
    [{ actions: 'x' }, 'actions', /must be an object/],
    [{ actions: { '': {} } }, 'actions.', /1 to 128 characters/],
    [{ actions: { A: 'msg' } }, 'actions.A', /must be an object like/],
    [{ actions: { A: { mesage: 'x' } } }, 'actions.A.mesage', /unknown key 'mesage'; accepted: message, failureMessage/],
    [{ actions: { A: { failureMessage: '{bogus}' } } }, 'actions.A.failureMessage', /'bogus' is not an entry field/],
    [{ actions: { A: { message: 7 } } }, 'actions.A.message', /template string/],
    [{ actions: { A: { message: '{usr} did it' } } }, 'actions.A.message', /\{usr\}.*'usr' is not an entry field/],
    [{ strictActions: 'yes' }, 'strictActions', /true or false/],
    [{ strictActions: true }, 'strictActions', /none is listed/],
  ])('bad options fail at auditLog(): %j', (options, option, message) => {
    const thrown = thrownBy(() => auditLog({ store: memoryStore(), ...(options as object) }));
    expect(thrown).toBeInstanceOf(AuditLogConfigError);
    expect(thrown).toMatchObject({ code: 'EAUDIT_OPTION', option });
    expect((thrown as Error).message).toMatch(message);
  });

  test('a registered action set with annotate() on a request gets its message too', async () => {
    audit = auditLog({ store: memoryStore(), actions: { 'role.rename': { message: '{user} renamed {collectionName} {documents.0}' } } });
    const app = appWith(audit, (app) => {
      app.put('/role/:id/rename', (req, res) => {
        auditLog.annotate(req, { action: 'role.rename' });
        res.json({ ok: true });
      });
    });
    await request(app)
      .put('/role/r1/rename')
      .set('Authorization', `Bearer ${token({ sub: 'ann' })}`)
      .send({ name: 'x' })
      .expect(200);
    const [entry] = await stored(audit, 1);
    expect(entry).toMatchObject({ action: 'role.rename', method: 'PUT', message: 'ann renamed role r1' });
  });
});

describe('bad calls throw coded errors; bad values never do', () => {
  const audit = auditLog({ store: memoryStore() });
  afterAll(() => audit.close());

  test.each([
    [() => audit.record(null, undefined as never), 'event', /needs an event object/],
    [() => audit.record(null, {} as never), 'action', /needs an action/],
    [() => audit.record(null, { action: 'x'.repeat(129) }), 'action', /1 to 128/],
    [() => audit.record(null, { action: 'A', colection: 'x' } as never), 'colection', /unknown field 'colection'/],
    [() => audit.record(null, { action: 'A', documents: 'b1' } as never), 'documents', /array of ids/],
    [() => audit.record(null, { action: 'A', isError: 'no' } as never), 'isError', /true or false/],
    [() => audit.record({ action: 'Login' } as never, { action: 'Login' }), 'req', /event was passed first/],
  ])('%#: %s', (call, option, message) => {
    const thrown = thrownBy(call);
    expect(thrown).toBeInstanceOf(AuditLogConfigError);
    expect(thrown).toMatchObject({ code: 'EAUDIT_EVENT', option });
    expect((thrown as Error).message).toMatch(message);
  });

  test('cyclic, exotic and hostile payloads are stored as markers', async () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    const hostile = {
      get boom() {
        throw new Error('getter');
      },
    };
    audit.record(null, { action: 'Odd', payload: { cyclic, fn: () => 1, big: 10n }, result: hostile, notes: 'n'.repeat(20_000) });
    const [entry] = await stored(audit, 1);
    expect(entry!.payload).toEqual({ cyclic: { a: 1, self: '[Circular]' }, big: '10' });
    expect(entry!.result).toBe('[Unserializable]');
    expect(entry!.notes).toHaveLength(10_000);
  });
});

describe('record(req, event) in a request', () => {
  test('user, ip, requestId and traceId come from the request; the entry is found by requestId and by $term on its message', async () => {
    const audit = auditLog({
      store: memoryStore(),
      echoRequestId: true,
      scope: ['admin'],
      actions: { Login: { message: '{user} logged in from {ipAddress}' } },
    });
    const app = appWith(audit, (app) => {
      app.post('/login', (req, res) => {
        const ok = req.body.password === 'right';
        audit.record(req, { action: 'Login', user: req.body.username, isError: !ok, payload: req.body });
        res.status(ok ? 200 : 401).json({ ok });
      });
      app.get('/report', (req, res) => {
        audit.record(req, { action: 'Export', notes: 'report viewed' });
        res.json({ rows: [] });
      });
    });
    const login = await request(app).post('/login').set('traceparent', TRACE).set('X-Request-Id', 'login-1').send({ username: 'ann', password: 'right' });
    expect(login.status).toBe(200);
    // A GET is not recorded, but record(req) still gives it a request id, echoed to the client.
    const report = await request(app).get('/report');
    expect(report.status).toBe(200);
    const reportId = report.headers['x-request-id'];
    expect(reportId).toEqual(expect.any(String));

    await stored(audit, 3);
    const byRequest = await request(app).get('/auditLog').query({ requestId: 'login-1', $sort: 'date' }).set('Authorization', `Bearer ${ADMIN}`);
    expect(byRequest.body.docs.map((e: { action: string }) => e.action).sort()).toEqual(['Create', 'Login']);
    const login1 = byRequest.body.docs.find((e: { action: string }) => e.action === 'Login');
    expect(login1).toMatchObject({
      user: 'ann',
      requestId: 'login-1',
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      method: null,
      endpoint: null,
      payload: { username: 'ann', password: '[REDACTED]' },
      isError: false,
    });
    expect(login1.ipAddress).toMatch(/127\.0\.0\.1|::1/);
    expect(login1.message).toMatch(/^ann logged in from .*(127\.0\.0\.1|::1)/);

    const searched = await request(app).get('/auditLog').query({ $term: 'logged in' }).set('Authorization', `Bearer ${ADMIN}`);
    expect(searched.body.docs).toHaveLength(1);
    const filtered = await request(app).get('/auditLog').query({ message: login1.message }).set('Authorization', `Bearer ${ADMIN}`);
    expect(filtered.body.docs.map((e: { _id: string }) => e._id)).toEqual([login1._id]);

    const exported = await request(app).get('/auditLog').query({ requestId: reportId }).set('Authorization', `Bearer ${ADMIN}`);
    expect(exported.body.docs).toHaveLength(1);
    expect(exported.body.docs[0]).toMatchObject({ action: 'Export', notes: 'report viewed' });
    await audit.close();
  });

  test('the user comes from the JWT when the event names none, even with the recorder mounted before the auth middleware', async () => {
    const store = memoryStore();
    const audit = auditLog({ store });
    const app = express();
    app.use(audit.recorder);
    app.use(express.json());
    app.use((req, _res, next) => {
      (req as unknown as { auth: unknown }).auth = { sub: 'late-user' };
      next();
    });
    app.post('/approve', (req, res) => {
      audit.record(req, { action: 'Approve' });
      res.status(204).end();
    });
    await request(app).post('/approve').expect(204);
    const entries = await stored(audit, 2);
    expect(entries.map((e) => [e.action, e.user])).toEqual(
      expect.arrayContaining([
        ['Approve', 'late-user'],
        ['Create', 'late-user'],
      ]),
    );
    await audit.close();
  });

  test("a record(req) made before the recorder ran shares the request id of the request's entry", async () => {
    const audit = auditLog({ store: memoryStore(), echoRequestId: true });
    const app = express();
    app.use((req, _res, next) => {
      audit.record(req, { action: 'Seen' });
      next();
    });
    app.use(audit);
    app.post('/things', (_req, res) => res.status(201).json({ _id: 't1' }));
    const res = await request(app).post('/things').expect(201);
    const entries = await stored(audit, 2);
    expect(entries.map((e) => [e.action, e.requestId])).toEqual(
      expect.arrayContaining([
        ['Seen', res.headers['x-request-id']],
        ['Create', res.headers['x-request-id']],
      ]),
    );
    await audit.close();
  });

  test('a disabled instance records nothing but still checks its input', () => {
    const audit = auditLog({ enabled: false });
    expect(audit.record(null, { action: 'Login' })).toBeNull();
    expect(() => audit.record(null, { actoin: 'Login' } as never)).toThrow(AuditLogConfigError);
    expect(audit.runWithContext({ user: 'u' }, () => 7)).toBe(7);
  });
});
