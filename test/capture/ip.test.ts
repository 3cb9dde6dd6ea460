/** clientIp(): IPv4 clients of a dual-stack server are recorded as IPv4 addresses. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { auditLog, memoryStore, type AuditEntry } from 'express-audit-log';
import { clientIp } from '../../src/capture/ip';

describe('clientIp', () => {
  test.each([
    ['::ffff:1.2.3.4', '1.2.3.4'],
    ['::FFFF:203.0.113.9', '203.0.113.9'],
    ['127.0.0.1', '127.0.0.1'],
    ['::1', '::1'],
    ['2001:db8::ffff:1.2.3.4', '2001:db8::ffff:1.2.3.4'],
    ['::ffff:1.2.3', '::ffff:1.2.3'],
    ['fe80::1%lo0', 'fe80::1%lo0'],
    ['', null],
    [undefined, null],
    [null, null],
  ])('%p → %p', (address, expected) => {
    expect(clientIp(address)).toBe(expected);
  });
});

test("an IPv4 client of a server listening on '::' is recorded as 1.2.3.4, not ::ffff:1.2.3.4", async () => {
  const store = memoryStore();
  const audit = auditLog({ store });
  const app = express();
  app.use(express.json());
  app.use(audit);
  app.post('/login', (req, res) => {
    audit.record(req, { action: 'Login', user: 'ann' });
    res.json({ seen: req.ip });
  });
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '::', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const seen = await new Promise<string>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/login', headers: { 'content-type': 'application/json' } }, (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => {
          text += chunk.toString();
        });
        res.on('end', () => resolve((JSON.parse(text) as { seen: string }).seen));
      });
      req.on('error', reject);
      req.end('{}');
    });
    // The premise: Express itself reports the mapped form on a dual-stack listener.
    expect(seen).toBe('::ffff:127.0.0.1');
    await audit.flush();
    const { docs } = await store.find({ filter: { action: 'Login' }, sort: [['date', 1]], skip: 0, limit: 10, select: null });
    expect((docs as AuditEntry[]).map((entry) => entry.ipAddress)).toEqual(['127.0.0.1']);
  } finally {
    await new Promise((resolve) => server.close(resolve));
    await audit.close();
  }
});
