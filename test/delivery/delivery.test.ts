/**
 * SIEM delivery through the public API: a real app, a real receiver on 127.0.0.1 that checks
 * every POST's signature, and the failures a delivery meets (errors, a receiver down, one that
 * hangs). Never a timing assertion: waits are on conditions.
 */
import fs from 'node:fs';
import express from 'express';
import request from 'supertest';
import { auditLog, memoryStore, AuditLogConfigError, type AuditLogOptions, type AuditLogStoreError, type DeliverOptions } from 'express-audit-log';
import { SiemReceiver } from '../support/siem-receiver';
import { tempDir } from '../support/stores';
import { until } from '../support/wait';

const SECRET = 'a-delivery-secret-of-32-chars-or-more';
const receivers: SiemReceiver[] = [];
const dirs: string[] = [];

afterAll(async () => {
  for (const receiver of receivers) await receiver.stop();
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

async function receiver(): Promise<SiemReceiver> {
  const started = await new SiemReceiver(SECRET).start();
  receivers.push(started);
  return started;
}

/** An app whose POST /widgets answers 201 with the widget; retries fast so failures resolve quickly. */
function appWith(deliver: DeliverOptions | false, options: AuditLogOptions = {}) {
  const store = memoryStore();
  const audit = auditLog({ store, deliver, retryMinDelayMs: 5, retryMaxDelayMs: 20, ...options });
  const errors: AuditLogStoreError[] = [];
  audit.on('error', (error) => errors.push(error));
  const app = express();
  app.use(express.json());
  app.use(audit);
  let next = 0;
  app.post('/widgets', (req, res) => {
    next++;
    res.status(201).json({ _id: `65f0c0ffee65f0c0ffee${String(next).padStart(4, '0')}`, ...req.body });
  });
  return { app, audit, store, errors };
}

async function post(app: express.Express, count: number) {
  const answers = [];
  for (let i = 0; i < count; i++)
    answers.push(
      await request(app)
        .post('/widgets')
        .set('user-agent', 'tests/1')
        .send({ name: `w${i}` }),
    );
  return answers;
}

describe('delivery as NDJSON', () => {
  test('every entry reaches the endpoint in signed NDJSON POSTs, and stats count them', async () => {
    const siem = await receiver();
    const { app, audit } = appWith({ url: siem.url, secret: SECRET });
    try {
      await post(app, 5);
      await audit.flush();
      expect(siem.posts.length).toBeGreaterThan(0);
      for (const received of siem.posts) {
        expect(received.signed).toBe(true);
        expect(received.headers['content-type']).toBe('application/x-ndjson');
        expect(received.headers['x-audit-signature']).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
        expect(received.headers['x-audit-entries']).toBe(String(received.lines.length));
      }
      const lines = siem.accepted();
      expect(lines.map((line) => (line.payload as { name: string }).name)).toEqual(['w0', 'w1', 'w2', 'w3', 'w4']);
      expect(lines[0]).toMatchObject({ method: 'POST', action: 'Create', endpoint: '/widgets', collectionName: 'widgets', statusCode: 201 });
      expect(new Set(lines.map((line) => line._id)).size).toBe(5);
      expect(audit.stats().delivery).toMatchObject({ recorded: 5, written: 5, failed: 0, dropped: 0, queued: 0 });
    } finally {
      await audit.close();
    }
  });

  test('custom headers are sent; the signature covers the exact body', async () => {
    const siem = await receiver();
    const { app, audit } = appWith({ url: siem.url, secret: SECRET, headers: { Authorization: 'Splunk 1234' } });
    try {
      await post(app, 1);
      await audit.flush();
      expect(siem.posts[0]!.headers.authorization).toBe('Splunk 1234');
      expect(siem.accepted()).toHaveLength(1);
    } finally {
      await audit.close();
    }
  });

  test('a receiver with another secret refuses every POST (401); entries stay queued and the failure is reported', async () => {
    const siem = await new SiemReceiver('another-secret-another-secret-another').start();
    receivers.push(siem);
    const { app, audit, errors } = appWith({ url: siem.url, secret: SECRET });
    try {
      await post(app, 1);
      await until(() => errors.some((error) => error.code === 'EAUDIT_DELIVERY'), 'a delivery error');
      expect(siem.posts.every((received) => !received.signed)).toBe(true);
      expect(audit.stats().delivery).toMatchObject({ written: 0, queued: 1 });
      expect(errors.find((error) => error.code === 'EAUDIT_DELIVERY')!.message).toMatch(
        /delivery to http:\/\/127\.0\.0\.1:\d+\/ingest: writing 1 entries failed \(.*answered 401: bad signature\)/,
      );
    } finally {
      await audit.close(50);
    }
  });
});

describe('failures', () => {
  test('503s then recovery: retried with backoff, every entry delivered once, failures counted and reported', async () => {
    const siem = await receiver();
    siem.failNext = 3;
    const { app, audit, errors } = appWith({ url: siem.url, secret: SECRET });
    try {
      await post(app, 3);
      await until(async () => {
        await audit.flush();
        return siem.accepted().length >= 3;
      }, 'three delivered entries');
      expect(siem.accepted().map((line) => (line.payload as { name: string }).name)).toEqual(['w0', 'w1', 'w2']);
      const stats = audit.stats().delivery!;
      expect(stats.failed).toBeGreaterThanOrEqual(3);
      expect(stats.retried).toBeGreaterThan(0);
      expect(stats).toMatchObject({ written: 3, dropped: 0, queued: 0 });
      expect(errors.filter((error) => error.code === 'EAUDIT_DELIVERY').length).toBeGreaterThanOrEqual(3);
      // The store never saw a failure: delivery errors have their own code.
      expect(audit.stats()).toMatchObject({ written: 3, failed: 0 });
    } finally {
      await audit.close();
    }
  });

  test('a batch the endpoint refuses (400) is resent entry by entry: the others arrive, the refused one is dropped and reported', async () => {
    const siem = await receiver();
    siem.refuse = 'poison';
    const { app, audit, errors } = appWith({ url: siem.url, secret: SECRET }, { batchSize: 10, flushIntervalMs: 1000 });
    try {
      await request(app).post('/widgets').send({ name: 'a' });
      await request(app).post('/widgets').send({ name: 'poison' });
      await request(app).post('/widgets').send({ name: 'c' });
      await until(async () => {
        await audit.flush();
        return audit.stats().delivery!.written + audit.stats().delivery!.dropped >= 3;
      }, 'three entries delivered or dropped');
      expect(siem.accepted().map((line) => (line.payload as { name: string }).name)).toEqual(['a', 'c']);
      expect(audit.stats().delivery).toMatchObject({ written: 2, dropped: 1 });
      expect(errors.find((error) => error.code === 'EAUDIT_DELIVERY_DROPPED')?.message).toMatch(/the endpoint rejected entry [0-9a-f]{24}.*answered 400/);
    } finally {
      await audit.close();
    }
  });

  test('receiver down with spoolDir: entries are spooled at close, then delivered by the next start once it is back', async () => {
    const siem = await receiver();
    const port = siem.port;
    await siem.stop();
    const spoolDir = tempDir('eal-deliver-');
    dirs.push(spoolDir);
    const first = appWith({ url: `http://127.0.0.1:${port}/ingest`, secret: SECRET }, { spoolDir });
    await post(first.app, 4);
    await until(() => first.errors.some((error) => error.code === 'EAUDIT_DELIVERY'), 'a delivery error');
    await first.audit.close(100);
    expect(first.audit.stats().delivery).toMatchObject({ written: 0, spooled: 4, dropped: 0 });
    expect(first.audit.stats()).toMatchObject({ written: 4, spooled: 0 }); // the store itself was fine
    expect(fs.readdirSync(`${spoolDir}/deliver`).some((name) => name.endsWith('.ndjson'))).toBe(true);

    await siem.start(port);
    const second = appWith({ url: siem.url, secret: SECRET }, { spoolDir });
    try {
      await second.audit.flush();
      expect(siem.accepted().map((line) => (line.payload as { name: string }).name)).toEqual(['w0', 'w1', 'w2', 'w3']);
      expect(second.audit.stats().delivery).toMatchObject({ replayed: 4, written: 4 });
      // Nothing of the delivery spool went into the store.
      expect(second.audit.stats()).toMatchObject({ replayed: 0, written: 0 });
    } finally {
      await second.audit.close();
    }
  });

  test('a receiver that hangs never slows or changes the answers; the store keeps being written', async () => {
    const siem = await receiver();
    siem.mode = 'hang';
    const plain = appWith(false); // the same app without delivery: the reference answers
    const { app, audit, store } = appWith({ url: siem.url, secret: SECRET, timeoutMs: 60_000 });
    try {
      const expected = await post(plain.app, 20);
      const answers = await post(app, 20);
      expect(answers.map((res) => [res.status, res.body])).toEqual(expected.map((res) => [res.status, res.body]));
      await until(async () => (await store.count({})) === 20, 'twenty entries in the store');
      await until(() => siem.posts.length > 0, 'a POST hanging at the receiver');
      expect(audit.stats().delivery).toMatchObject({ written: 0, recorded: 20 });
    } finally {
      await audit.close(50);
      await plain.audit.close();
    }
  });
});

describe('OCSF format', () => {
  test('each entry is an OCSF API Activity event (class 6003)', async () => {
    const siem = await receiver();
    const { app, audit } = appWith({ url: siem.url, secret: SECRET, format: 'ocsf' });
    try {
      await post(app, 1);
      await audit.flush();
      const [event] = siem.accepted();
      expect(event).toMatchObject({
        class_uid: 6003,
        class_name: 'API Activity',
        category_uid: 6,
        activity_id: 1,
        activity_name: 'Create',
        type_uid: 600301,
        severity_id: 1,
        status_id: 1,
        status: 'Success',
        api: { operation: 'Create', service: { name: 'widgets' } },
        src_endpoint: { ip: expect.any(String) },
        http_request: { http_method: 'POST', url: { path: '/widgets' }, user_agent: 'tests/1' },
        http_response: { code: 201 },
        metadata: { version: '1.1.0', product: { name: 'express-audit-log', vendor_name: 'express-audit-log' } },
        unmapped: { payload: { name: 'w0' } },
      });
      expect(typeof event!.time).toBe('number');
      expect((event!.metadata as { uid: string }).uid).toMatch(/^[0-9a-f]{24}$/);
      expect(event!.resources).toEqual([{ uid: '65f0c0ffee65f0c0ffee0001', type: 'widgets' }]);
    } finally {
      await audit.close();
    }
  });
});

describe('options', () => {
  test('off by default: no delivery stats', () => {
    const audit = auditLog({ store: memoryStore() });
    expect(audit.stats()).not.toHaveProperty('delivery');
    return audit.close();
  });

  test.each([
    [{ url: 'https://siem.example.com/in', secret: 'short' }, /deliver.secret must be a string of at least 32 characters/],
    [{ url: 'http://siem.example.com/in', secret: SECRET }, /plain http to another machine .* set deliver.allowHttp: true/],
    [{ url: 'ftp://siem.example.com/in', secret: SECRET }, /deliver.url must be an http\(s\) URL/],
    [{ url: 'https://user:pw@siem.example.com/in', secret: SECRET }, /must not carry credentials/],
    [{ url: 'https://siem.example.com/in', secret: SECRET, format: 'cef' }, /deliver.format must be 'ndjson' or 'ocsf'/],
    [{ url: 'https://siem.example.com/in', secret: SECRET, headers: { 'Content-Type': 'text/plain' } }, /must not set Content-Type/],
    [{ url: 'https://siem.example.com/in', secret: SECRET, retries: 3 }, /unknown deliver option 'retries'/],
    [{ url: 'https://siem.example.com/in', secret: SECRET, spoolDir: '/tmp/x' }, /must differ from spoolDir/],
  ])('%j is refused at start', (deliver, message) => {
    const attempt = () => auditLog({ store: memoryStore(), deliver: deliver as DeliverOptions, spoolDir: '/tmp/x' });
    expect(attempt).toThrow(AuditLogConfigError);
    expect(attempt).toThrow(message);
  });

  test('plain http to another machine is accepted with allowHttp', () => {
    const audit = auditLog({ store: memoryStore(), deliver: { url: 'http://siem.internal/in', secret: SECRET, allowHttp: true } });
    return audit.close(0);
  });
});
