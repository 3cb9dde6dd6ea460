/**
 * The `ipAddress` option through real HTTP on every store: recorded requests, manual entries and
 * record() events store the full address, its network, a keyed hash (equal addresses group), or
 * nothing, and the stored entries hold no trace of the address beyond what was promised.
 */
import express from 'express';
import { expressjwt } from 'express-jwt';
import request from 'supertest';
import { auditLog, type AuditEntry, type AuditLogOptions } from 'express-audit-log';
import { ADMIN, SECRET } from '../support/app';
import { STORE_KINDS, openStore } from '../support/stores';
import { settle } from '../support/wait';

const kinds = process.env.EAL_STORES ? STORE_KINDS.filter((k) => process.env.EAL_STORES!.split(',').includes(k)) : STORE_KINDS;
const IPV4 = '203.0.113.9';
const IPV6 = '2001:db8:abcd:12::1';

/** Records one request from each address (twice from IPV4), one record() event and one manual entry; returns the stored entries, oldest first. */
async function stored(kind: (typeof STORE_KINDS)[number], options: AuditLogOptions): Promise<AuditEntry[]> {
  const opened = await openStore(kind);
  const app = express();
  // The client address comes from X-Forwarded-For because the app trusts its proxy: req.ip decides.
  app.set('trust proxy', true);
  app.use(express.json());
  app.use(expressjwt({ secret: SECRET, algorithms: ['HS256'], credentialsRequired: false }));
  const audit = auditLog({ store: opened.store, ...options });
  app.use(audit);
  app.post('/things', (_req, res) => res.status(201).json({}));
  app.get('/login', (req, res) => {
    audit.record(req, { action: 'Login' });
    res.status(204).end();
  });
  try {
    await request(app).post('/things').set('X-Forwarded-For', IPV4).send({ n: 1 }).expect(201);
    await request(app).post('/things').set('X-Forwarded-For', IPV4).send({ n: 2 }).expect(201);
    await request(app).post('/things').set('X-Forwarded-For', IPV6).send({ n: 3 }).expect(201);
    await request(app).get('/login').set('X-Forwarded-For', IPV6).expect(204);
    await request(app).post('/auditLog').set('X-Forwarded-For', IPV4).set('Authorization', `Bearer ${ADMIN}`).send({ action: 'Note' }).expect(201);
    await settle(audit, 5);
    const res = await request(app).get('/auditLog?$sort=date&$limit=10').set('Authorization', `Bearer ${ADMIN}`).expect(200);
    return res.body.docs;
  } finally {
    await audit.close();
    await opened.cleanup();
  }
}

describe.each(kinds)('ipAddress on the %s store', (kind) => {
  test("'full' (the default) stores the address req.ip gives", async () => {
    const entries = await stored(kind, {});
    expect(entries.map((entry) => entry.ipAddress)).toEqual([IPV4, IPV4, IPV6, IPV6, IPV4]);
  });

  test("'truncated' stores the network only: IPv4 /24, IPv6 /48", async () => {
    const entries = await stored(kind, { ipAddress: 'truncated' });
    expect(entries.map((entry) => entry.ipAddress)).toEqual(['203.0.113.0', '203.0.113.0', '2001:db8:abcd::', '2001:db8:abcd::', '203.0.113.0']);
    expect(JSON.stringify(entries)).not.toMatch(/203\.0\.113\.9|abcd:12/);
  });

  test("'hashed' stores a keyed hash: equal addresses group, the address itself is nowhere", async () => {
    const entries = await stored(kind, { ipAddress: 'hashed', ipHashKey: 'an-app-secret-of-16-bytes-or-more' });
    const [a, b, c, d, e] = entries.map((entry) => entry.ipAddress);
    expect(a).toMatch(/^hmac:[0-9a-f]{32}$/);
    expect([b, e]).toEqual([a, a]);
    expect(c).toMatch(/^hmac:[0-9a-f]{32}$/);
    expect(d).toBe(c);
    expect(c).not.toBe(a);
    expect(JSON.stringify(entries)).not.toMatch(/203\.0\.113|2001:db8/);
    // Another key, other values: without the key nobody can hash every address to find one.
    const other = await stored(kind, { ipAddress: 'hashed', ipHashKey: 'another-secret-of-16-bytes-or-more' });
    expect(other[0]!.ipAddress).not.toBe(a);
  });

  test('false stores no address at all', async () => {
    const entries = await stored(kind, { ipAddress: false });
    expect(entries.map((entry) => entry.ipAddress)).toEqual([null, null, null, null, null]);
    expect(JSON.stringify(entries)).not.toMatch(/203\.0\.113|2001:db8/);
  });
});
