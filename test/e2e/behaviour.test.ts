/** The promises of the recording middleware that rest-hapi never tested (reference §5, "additional Express cases"). */
import express from 'express';
import request from 'supertest';
import { auditLog, memoryStore, type AuditEntry, type AuditStore, AuditLogStoreError } from 'express-audit-log';
import { ADMIN, createTestApp, token } from '../support/app';
import { settle, until } from '../support/wait';

async function entries(store: AuditStore): Promise<AuditEntry[]> {
  return (await store.find({ filter: {}, sort: [['date', 1]], skip: 0, limit: 1000, select: null })).docs as AuditEntry[];
}

describe('enabled: false', () => {
  test('records nothing, opens no store, and the routes 404 as if never mounted', async () => {
    const store = memoryStore();
    const init = jest.spyOn(store, 'init');
    const { app, audit } = createTestApp({ store, enabled: false });
    await request(app).post('/role').send({ name: 'x' }).expect(201);
    const routes = await request(app).get('/auditLog').set('Authorization', `Bearer ${ADMIN}`);
    // The app's own GET /:model/:id does not match; the app's 404 answers, not ours.
    expect(routes.status).toBe(404);
    expect(routes.body).toEqual({});
    expect(audit.enabled).toBe(false);
    expect(audit.stats().recorded).toBe(0);
    expect(init).not.toHaveBeenCalled();
  });

  test('AUDIT_LOG_ENABLED=false in the environment disables it too', async () => {
    process.env.AUDIT_LOG_ENABLED = 'false';
    try {
      const audit = auditLog({ store: memoryStore() });
      expect(audit.enabled).toBe(false);
    } finally {
      delete process.env.AUDIT_LOG_ENABLED;
    }
  });
});

describe('store failures never reach the response', () => {
  test('a failing store: responses unchanged, error emitted, entries retried until written', async () => {
    const store = memoryStore();
    let failures = 3;
    const real = store.insertMany.bind(store);
    store.insertMany = async (batch) => {
      if (failures-- > 0) throw new Error('database on fire');
      return real(batch);
    };
    const { app, audit } = createTestApp({ store, retryMinDelayMs: 1, retryMaxDelayMs: 5, flushIntervalMs: 1 });
    const errors: AuditLogStoreError[] = [];
    audit.on('error', (error) => errors.push(error));
    const res = await request(app).post('/role').send({ name: 'kept' });
    expect(res.status).toBe(201);
    expect(res.body.name).toBe('kept');
    await until(() => audit.stats().written === 1, 'the entry written after retries');
    expect(errors.length).toBeGreaterThanOrEqual(3);
    expect(errors[0]).toBeInstanceOf(AuditLogStoreError);
    expect(errors[0]!.code).toBe('EAUDIT_STORE_WRITE');
    expect(errors[0]!.message).toMatch(/database on fire/);
    expect(audit.stats()).toMatchObject({ recorded: 1, written: 1, retried: 1, dropped: 0, queued: 0 });
    expect((await entries(store)).map((e) => e.payload)).toEqual([{ name: 'kept' }]);
    await audit.close();
  });

  test('with no error listener, a failure is logged once, never thrown', async () => {
    const store = memoryStore();
    store.insertMany = async () => {
      throw new Error('down');
    };
    const logged: string[] = [];
    const { app, audit } = createTestApp({
      store,
      retryMinDelayMs: 1,
      retryMaxDelayMs: 2,
      flushIntervalMs: 1,
      logger: { warn: (m) => logged.push(m), error: (m) => logged.push(m) },
    });
    await request(app).post('/role').send({ a: 1 }).expect(201);
    await request(app).post('/role').send({ a: 2 }).expect(201);
    await until(() => audit.stats().failed >= 4, 'several failed attempts');
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatch(/EAUDIT_STORE_WRITE/);
    await audit.close(50);
    expect(audit.stats().dropped).toBe(2); // no spool configured: counted, not silent
  });
});

describe('who and where', () => {
  test('userIdKey reads a dotted path; ids are strings, never cast', async () => {
    const store = memoryStore();
    const { app, audit } = createTestApp({ store, userIdKey: 'user.id' });
    await request(app)
      .post('/role')
      .set('Authorization', `Bearer ${token({ user: { id: 'auth0|123' } })}`)
      .send({})
      .expect(201);
    await request(app)
      .post('/role')
      .set('Authorization', `Bearer ${token({ user: { id: 42 } })}`)
      .send({})
      .expect(201);
    await request(app)
      .post('/role')
      .set('Authorization', `Bearer ${token({ user: { id: '7d3f0d4e-3f9a-4b5e-9c43-2b1c1f6e9a10' } })}`)
      .send({})
      .expect(201);
    await settle(audit, 3);
    expect((await entries(store)).map((e) => e.user)).toEqual(['auth0|123', '42', '7d3f0d4e-3f9a-4b5e-9c43-2b1c1f6e9a10']);
    await audit.close();
  });

  test('getUser overrides userIdKey', async () => {
    const store = memoryStore();
    const { app, audit } = createTestApp({ store, getUser: (req) => String(req.headers['x-user'] ?? '') || null });
    await request(app).post('/role').set('x-user', 'from-header').send({}).expect(201);
    await settle(audit, 1);
    expect((await entries(store))[0]!.user).toBe('from-header');
    await audit.close();
  });

  test('X-Forwarded-For counts only when the app trusts the proxy', async () => {
    const untrusted = createTestApp({ store: memoryStore() });
    const trusted = createTestApp({ store: memoryStore() }, (app) => app.set('trust proxy', 'loopback'));
    for (const t of [untrusted, trusted]) {
      await request(t.app).post('/role').set('X-Forwarded-For', '203.0.113.9').set('X-Real-IP', '198.51.100.1').send({}).expect(201);
      await settle(t.audit, 1);
    }
    expect((await entries(untrusted.audit.store!))[0]!.ipAddress).toMatch(/127\.0\.0\.1/);
    expect((await entries(trusted.audit.store!))[0]!.ipAddress).toBe('203.0.113.9');
    await untrusted.audit.close();
    await trusted.audit.close();
  });

  test('request id: a sane incoming X-Request-Id is kept, a hostile one replaced; traceparent gives traceId', async () => {
    const store = memoryStore();
    const { app, audit } = createTestApp({ store });
    const kept = await request(app)
      .post('/role')
      .set('X-Request-Id', 'req-123')
      .set('traceparent', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')
      .send({});
    expect(kept.headers['x-request-id']).toBe('req-123');
    const replaced = await request(app).post('/role').set('X-Request-Id', 'x'.repeat(500)).send({});
    expect(replaced.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    await settle(audit, 2);
    const [first, second] = await entries(store);
    expect(first).toMatchObject({ requestId: 'req-123', traceId: '4bf92f3577b34da6a3ce929d0e0e4736' });
    expect(second).toMatchObject({ requestId: replaced.headers['x-request-id'], traceId: null });
    await audit.close();
  });
});

describe('what is stored', () => {
  test('secrets are redacted at any depth, in payloads and results, case-insensitively', async () => {
    const store = memoryStore();
    const app = express();
    app.use(express.json());
    const audit = auditLog({ store });
    app.use(audit);
    app.post('/login', (req, res) => {
      res.json({ accessToken: 'tok-secret', user: { name: req.body.name, apiKey: 'k-secret' } });
    });
    await request(app)
      .post('/login')
      .send({ name: 'ann', Password: 'p-secret', nested: [{ client_secret: 's-secret', ok: 1 }], 'X-API-KEY': 'h-secret' })
      .expect(200);
    await settle(audit, 1);
    const [entry] = await entries(store);
    expect(entry!.payload).toEqual({ name: 'ann', Password: '[REDACTED]', nested: [{ client_secret: '[REDACTED]', ok: 1 }], 'X-API-KEY': '[REDACTED]' });
    expect(entry!.result).toEqual({ accessToken: '[REDACTED]', user: { name: 'ann', apiKey: '[REDACTED]' } });
    expect(JSON.stringify(entry)).not.toMatch(/-secret/);
    await audit.close();
  });

  test('redact: a custom list replaces the default; redact: false keeps everything', async () => {
    const custom = createTestApp({ store: memoryStore(), redact: ['ssn'] });
    const off = createTestApp({ store: memoryStore(), redact: false });
    for (const t of [custom, off]) {
      await request(t.app).post('/role').send({ ssn: '123', password: 'pw' }).expect(201);
      await settle(t.audit, 1);
    }
    expect((await entries(custom.audit.store!))[0]!.payload).toEqual({ ssn: '[REDACTED]', password: 'pw' });
    expect((await entries(off.audit.store!))[0]!.payload).toEqual({ ssn: '123', password: 'pw' });
  });

  test('payload and result over maxFieldBytes become a marker named in truncated', async () => {
    const store = memoryStore();
    const { app, audit } = createTestApp({ store, maxFieldBytes: 1024 });
    const big = { blob: 'x'.repeat(5000) };
    await request(app).post('/role').send(big).expect(201);
    await request(app).post('/role').send({ small: true }).expect(201);
    await settle(audit, 2);
    const [large, small] = await entries(store);
    expect(large!.truncated).toEqual(['payload', 'result']);
    expect(large!.payload).toMatch(/^\[Truncated: \d+ bytes > 1024 bytes\]$/);
    expect(large!.result).toMatch(/^\[Truncated/);
    expect(large!.documents).toBeNull();
    expect(small!.truncated).toBeNull();
    await audit.close();
  });
});

describe('choosing what is recorded', () => {
  test('annotate refines the entry, skip drops it, unknown fields throw', async () => {
    const store = memoryStore();
    const app = express();
    app.use(express.json());
    const audit = auditLog({ store });
    app.use(audit);
    app.post('/orders/:id/approve', (req, res) => {
      auditLog.annotate(req, { action: 'Approve', notes: 'manager approval', documents: [req.params.id as string, 99] });
      res.json({ ok: true });
    });
    app.post('/ping', (req, res) => {
      audit.annotate(req, { skip: true });
      res.json({ pong: true });
    });
    app.post('/typo', (req, res) => {
      try {
        auditLog.annotate(req, { note: 'x' } as never);
        res.json({ threw: false });
      } catch (error) {
        res.json({ threw: true, code: (error as { code: string }).code });
      }
    });
    await request(app).post('/orders/o-1/approve').expect(200);
    await request(app).post('/ping').expect(200);
    const typo = await request(app).post('/typo').expect(200);
    expect(typo.body).toEqual({ threw: true, code: 'EAUDIT_ANNOTATION' });
    await settle(audit, 2);
    const all = await entries(store);
    expect(all).toHaveLength(2);
    expect(all[0]).toMatchObject({ action: 'Approve', notes: 'manager approval', documents: ['o-1', '99'], collectionName: 'orders' });
    expect(all[1]!.endpoint).toBe('/typo');
    await audit.close();
  });

  test('methods adds GET; include and exclude pick paths', async () => {
    const store = memoryStore();
    const { app, audit } = createTestApp({ store, methods: ['GET', 'POST'], exclude: ['/health', /^\/role\/secret/], include: ['/role', '/health'] });
    const made = await request(app).post('/role').send({}).expect(201);
    await request(app).get(`/role/${made.body._id}`).expect(200);
    await request(app).post('/health').expect(201); // excluded
    await request(app).post('/user').send({}).expect(201); // not included
    await request(app).put(`/role/${made.body._id}`).send({}).expect(200); // PUT not in methods
    await settle(audit, 2);
    expect((await entries(store)).map((e) => [e.method, e.action])).toEqual([
      ['POST', 'Create'],
      ['GET', 'Read'],
    ]);
    await audit.close();
  });

  test('transform may change or drop an entry', async () => {
    const store = memoryStore();
    const { app, audit } = createTestApp({ store, transform: (entry) => (entry.endpoint === '/user' ? null : { ...entry, notes: 'tenant-7' }) });
    await request(app).post('/role').send({}).expect(201);
    await request(app).post('/user').send({}).expect(201);
    await request(app).post('/role').send({}).expect(201);
    await until(() => audit.stats().recorded === 2, 'two kept entries');
    await audit.flush();
    expect((await entries(store)).map((e) => e.notes)).toEqual(['tenant-7', 'tenant-7']);
    await audit.close();
  });
});

test('close() flushes what is queued, resolves once, and is harmless twice', async () => {
  const store = memoryStore();
  const { app, audit } = createTestApp({ store, flushIntervalMs: 60_000, batchSize: 1000 });
  for (let i = 0; i < 5; i++) await request(app).post('/role').send({ i }).expect(201);
  await until(() => audit.stats().recorded === 5, 'five recorded');
  expect(audit.stats().written).toBe(0); // held for the batch timer
  await Promise.all([audit.close(), audit.close()]);
  expect(audit.stats()).toMatchObject({ written: 5, queued: 0, dropped: 0 });
});
