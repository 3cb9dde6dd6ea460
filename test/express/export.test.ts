/** GET /auditLog/export: the list filters, streamed as NDJSON or CSV, formula-safe, and itself recorded. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { ObjectId } from 'bson';
import { memoryStore, type AuditEntry, type AuditStore } from 'express-audit-log';
import { ADMIN, createTestApp, type TestApp } from '../support/app';
import { csvCell } from '../../src/express/export';
import { settle, until } from '../support/wait';

function entry(i: number, overrides: Partial<AuditEntry> = {}): AuditEntry {
  return {
    _id: new ObjectId().toHexString(),
    date: new Date(Date.UTC(2026, 0, 1) + i * 1000),
    method: 'POST',
    action: 'Create',
    endpoint: '/role',
    user: i % 2 ? 'odd' : 'even',
    collectionName: 'role',
    childCollectionName: null,
    associationType: null,
    documents: [`d${i}`],
    payload: { i },
    params: null,
    result: null,
    statusCode: 201,
    isError: false,
    responseMessage: null,
    ipAddress: '127.0.0.1',
    notes: null,
    requestId: `r${i}`,
    traceId: null,
    durationMs: 1,
    userAgent: null,
    truncated: null,
    ...overrides,
  };
}

describe('export', () => {
  let t: TestApp;
  let store: AuditStore;
  const total = 1234;

  beforeAll(async () => {
    store = memoryStore();
    t = createTestApp({ store, exportMaxRows: 1000 });
    await t.audit.flush();
    const all = Array.from({ length: total }, (_, i) => entry(i));
    all[5] = entry(5, { notes: '=HYPERLINK("http://evil","x")', user: 'odd' });
    await store.insertMany(all);
  });
  afterAll(() => t.audit.close());

  test('NDJSON: every match newest first, with the filters of the list route, across pages', async () => {
    const res = await request(t.app).get('/auditLog/export?user=even&to=2026-01-01T00:10:00Z').set('Authorization', `Bearer ${ADMIN}`).expect(200);
    expect(res.headers['content-type']).toMatch(/application\/x-ndjson/);
    expect(res.headers['content-disposition']).toMatch(/attachment; filename="auditLog-.*\.ndjson"/);
    const lines = res.text
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines.map((l) => l.payload.i)).toEqual(Array.from({ length: 301 }, (_, k) => 600 - 2 * k));
  });

  test('the row cap stops the stream, and the export is recorded as an Export entry', async () => {
    const before = t.audit.stats().recorded;
    const res = await request(t.app).get('/auditLog/export?format=ndjson&action=Create').set('Authorization', `Bearer ${ADMIN}`).expect(200);
    expect(res.text.trim().split('\n')).toHaveLength(1000);
    await settle(t.audit, before + 1);
    const found = await request(t.app).get('/auditLog?action=Export').set('Authorization', `Bearer ${ADMIN}`).expect(200);
    expect(found.body.docs[0]).toMatchObject({
      action: 'Export',
      user: 'admin-1',
      payload: { action: 'Create' },
      result: { rows: 1000, format: 'ndjson', capped: true },
    });
  });

  test('CSV: header, JSON columns, and formula injection defused', async () => {
    const res = await request(t.app).get('/auditLog/export?format=csv&requestId=r5&requestId=r6').set('Authorization', `Bearer ${ADMIN}`).expect(200);
    expect(res.headers['content-type']).toMatch(/text\/csv/);
    const [header, ...rows] = res.text.trim().split('\r\n');
    expect(header!.split(',')).toContain('payload');
    expect(rows).toHaveLength(2);
    expect(res.text).toContain(`"'=HYPERLINK(""http://evil"",""x"")"`);
    expect(res.text).toContain('"{""i"":6}"');
  });

  test.each([
    ['=1+1', "'=1+1"],
    ['+cmd', "'+cmd"],
    ['-2', "'-2"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['a,b', '"a,b"'],
    ['plain', 'plain'],
    [null, ''],
    [3, '3'],
  ])('csvCell(%p) → %p', (value, cell) => {
    expect(csvCell(value)).toBe(cell);
  });

  test('needs the same auth as the list; bad format and paging parameters are 400', async () => {
    await request(t.app).get('/auditLog/export').expect(401);
    const bad = await request(t.app).get('/auditLog/export?format=xml').set('Authorization', `Bearer ${ADMIN}`).expect(400);
    expect(bad.body.parameter).toBe('format');
    await request(t.app).get('/auditLog/export?$limit=5').set('Authorization', `Bearer ${ADMIN}`).expect(400);
  });

  test.each(['ndjson', 'csv'])('a failing store: %s answers a JSON 503, not a broken download', async (format) => {
    const find = jest.spyOn(store, 'find').mockRejectedValueOnce(new Error('store down'));
    const errors: Error[] = [];
    const listener = (error: Error) => errors.push(error);
    t.audit.on('error', listener);
    try {
      const res = await request(t.app).get(`/auditLog/export?format=${format}`).set('Authorization', `Bearer ${ADMIN}`);
      expect(res.status).toBe(503);
      expect(res.headers['content-type']).toMatch(/application\/json/);
      expect(res.headers['content-disposition']).toBeUndefined();
      expect(res.body).toEqual({ statusCode: 503, error: 'Service Unavailable', message: 'The audit store is unavailable; try again later.' });
      expect(errors).toHaveLength(1);
    } finally {
      t.audit.off('error', listener);
      find.mockRestore();
    }
  });

  test('HEAD exports nothing and records nothing, but answers the headers a GET would (and checks auth and the query)', async () => {
    const find = jest.spyOn(store, 'find');
    const before = t.audit.stats().recorded;
    try {
      const res = await request(t.app).head('/auditLog/export?format=csv&user=even').set('Authorization', `Bearer ${ADMIN}`).expect(200);
      expect(res.headers['content-type']).toMatch(/text\/csv/);
      expect(res.headers['content-disposition']).toMatch(/attachment; filename="auditLog-.*\.csv"/);
      expect(res.text ?? '').toBe('');
      expect(find).not.toHaveBeenCalled();
      expect(t.audit.stats().recorded).toBe(before);
      await request(t.app).head('/auditLog/export').expect(401);
      await request(t.app).head('/auditLog/export?format=xml').set('Authorization', `Bearer ${ADMIN}`).expect(400);
    } finally {
      find.mockRestore();
    }
  });

  test('streams with backpressure: a client that does not read holds the server to a few pages', async () => {
    const big = memoryStore();
    const app = createTestApp({ store: big, exportMaxRows: 1_000_000 });
    await app.audit.flush();
    const wide = 'w'.repeat(2000);
    for (let batch = 0; batch < 10; batch++) {
      await big.insertMany(Array.from({ length: 1000 }, (_, i) => entry(batch * 1000 + i, { notes: wide })));
    }
    const find = jest.spyOn(big, 'find');
    const server = http.createServer(app.app).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const { port } = server.address() as AddressInfo;
    const req = http.get({ host: '127.0.0.1', port, path: '/auditLog/export', headers: { Authorization: `Bearer ${ADMIN}` } });
    const res = await new Promise<http.IncomingMessage>((resolve) => req.once('response', resolve));
    res.pause(); // a slow reader: the socket fills, the server must stop reading pages
    await until(() => find.mock.calls.length >= 2, 'the first pages');
    const paused = find.mock.calls.length;
    await new Promise((resolve) => setImmediate(resolve));
    // 10,000 rows are 20 pages; with nothing read, the server stops once the socket buffers are full.
    expect(paused).toBeLessThan(20);
    let bytes = 0;
    res.on('data', (chunk: Buffer) => (bytes += chunk.length));
    res.resume();
    await new Promise((resolve) => res.once('end', resolve));
    expect(bytes).toBeGreaterThan(10_000 * 2000);
    expect(find.mock.calls.length).toBeGreaterThanOrEqual(20);
    server.close();
    await app.audit.close();
  });
});
