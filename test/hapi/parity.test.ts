/**
 * The audit log's own routes answer on Hapi exactly as on Express, request for request: status,
 * media type, Allow and the routes' own headers, and body, for the answers the contract suite does not pin (wrong
 * methods, the admin page's refusals, bodies refused before or after auth). The Express app is
 * the audit middleware alone (express-jwt for the token, no body parser of the app's), the Hapi
 * one the plugin with @hapi/jwt in mode 'try' (test/contract/hapi-driver.ts).
 */
import type { AddressInfo } from 'net';
import type { Server } from 'http';
import { gzipSync } from 'zlib';
import express from 'express';
import { expressjwt } from 'express-jwt';
import request from 'supertest';
import { memoryStore } from 'express-audit-log';
import { hapiDriver, startHapiApp } from '../contract/hapi-driver';
import { expressDriver } from '../contract/express-driver';
import type { ContractApp } from '../contract/driver';
import { ADMIN, SECRET, USER } from '../support/app';
import { entriesOf, normalise } from '../contract/scenario';

interface Case {
  method: 'get' | 'head' | 'post' | 'put' | 'patch' | 'delete' | 'options';
  path: string;
  token?: string;
  type?: string;
  encoding?: string;
  body?: string | Buffer;
}

interface Seen {
  status: number;
  type: string | null;
  allow: string | null;
  /** The headers the routes set themselves: caching, sniffing, the auth challenge, the page's policy. */
  headers: Record<string, unknown>;
  body: unknown;
}

const COMPARED_HEADERS = [
  'cache-control',
  'x-content-type-options',
  'www-authenticate',
  'content-security-policy',
  'x-frame-options',
  'x-request-id',
  'content-disposition',
];

const OPTIONS = { scope: ['admin'], holdScope: ['admin'], eraseScope: ['admin'], encryption: { masterKey: Buffer.alloc(32, 7) } };
const BIG = JSON.stringify({ action: 'Note', collectionName: 'x', blob: 'b'.repeat(1024 * 1024 + 10) });

async function expressApp(options: Record<string, unknown>): Promise<{ url: string; close: () => Promise<void> }> {
  const app = express();
  app.use(expressjwt({ secret: SECRET, algorithms: ['HS256'], credentialsRequired: false }));
  const { auditLog } = await import('express-audit-log');
  app.use(auditLog({ store: memoryStore(), ...options }));
  const server: Server = await new Promise((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** The audit log with these options on Express and on Hapi, for the tests of one describe block. */
function appPair(options: Record<string, unknown>): { express: string; hapi: string } {
  const urls = { express: '', hapi: '' };
  const closers: Array<() => Promise<void>> = [];
  beforeAll(async () => {
    const e = await expressApp(options);
    urls.express = e.url;
    closers.push(e.close);
    const hapi = await startHapiApp({ store: memoryStore(), ...options });
    urls.hapi = hapi.info.uri;
    closers.push(async () => void (await hapi.stop()));
  });
  afterAll(async () => {
    await Promise.all(closers.splice(0).map((close) => close()));
  });
  return urls;
}

async function send(url: string, c: Case): Promise<Seen> {
  let test = request(url)[c.method](c.path);
  if (c.token) test = test.set('Authorization', `Bearer ${c.token}`);
  if (c.type) test = test.set('Content-Type', c.type);
  if (c.encoding) test = test.set('Content-Encoding', c.encoding);
  const res = await (c.body === undefined ? test : test.send(c.body)).ok(() => true);
  const type = typeof res.headers['content-type'] === 'string' ? (res.headers['content-type'].split(';')[0]?.trim() ?? null) : null;
  const body = type === 'application/json' ? res.body : c.method === 'head' ? '' : res.text;
  // An export's file name carries the time it was made: the rest must be the same.
  const at = (value: unknown) => (typeof value === 'string' ? value.replace(/\d{4}-\d{2}-\d{2}T[\d-]+Z/, '<time>') : (value ?? null));
  const headers = Object.fromEntries(COMPARED_HEADERS.map((name) => [name, at(res.headers[name])]));
  return { status: res.status, type, allow: (res.headers.allow as string | undefined) ?? null, headers, body: normalise(sameAuthWords(body)) };
}

/** A 401 names where the framework keeps auth (req.auth, request.auth.credentials): the rest of the message is the same. */
function sameAuthWords(body: unknown): unknown {
  const message = (body as { message?: unknown } | null)?.message;
  if (typeof message !== 'string') return body;
  return { ...(body as object), message: message.replace(/\((req\.auth|request\.auth\.credentials) is not set\)/, '(<auth> is not set)') };
}

const json = 'application/json';
const CASES: Array<[string, Case]> = [
  // Wrong methods on the admin page and the query routes.
  ['POST /auditLog/ui', { method: 'post', path: '/auditLog/ui' }],
  ['DELETE /auditLog/ui/app.js', { method: 'delete', path: '/auditLog/ui/app.js' }],
  ['OPTIONS /auditLog/ui', { method: 'options', path: '/auditLog/ui' }],
  ['HEAD /auditLog/ui', { method: 'head', path: '/auditLog/ui' }],
  ['OPTIONS /auditLog/ui/style.css', { method: 'options', path: '/auditLog/ui/style.css' }],
  ['PUT /auditLog/ui/chart.js', { method: 'put', path: '/auditLog/ui/chart.js' }],
  ['POST /auditLog/ui/nope.js', { method: 'post', path: '/auditLog/ui/nope.js' }],
  ['GET /auditLog/ui/nope.js', { method: 'get', path: '/auditLog/ui/nope.js' }],
  ['PUT /auditLog', { method: 'put', path: '/auditLog', token: ADMIN }],
  ['DELETE /auditLog/<id>', { method: 'delete', path: '/auditLog/0123456789abcdef01234567', token: ADMIN }],
  ['POST /auditLog/export', { method: 'post', path: '/auditLog/export', token: ADMIN }],
  ['PATCH /auditLog/stats', { method: 'patch', path: '/auditLog/stats', token: ADMIN }],
  ['DELETE /auditLog/holds', { method: 'delete', path: '/auditLog/holds', token: ADMIN }],
  ['PUT /auditLog/holds/<id>', { method: 'put', path: '/auditLog/holds/abc', token: ADMIN }],
  ['POST /auditLog/history/users/1', { method: 'post', path: '/auditLog/history/users/1', token: ADMIN }],
  ['GET /auditLog/no/such/route', { method: 'get', path: '/auditLog/no/such/route', token: ADMIN }],
  // Bodies: auth is checked before the body is read, as on Express.
  ['POST /auditLog, no token, body over the limit', { method: 'post', path: '/auditLog', type: json, body: BIG }],
  ['POST /auditLog, no token, invalid JSON', { method: 'post', path: '/auditLog', type: json, body: '{nope' }],
  ['POST /auditLog, USER token, body over the limit', { method: 'post', path: '/auditLog', token: USER, type: json, body: BIG }],
  ['POST /auditLog/erasures, no token, body over the limit', { method: 'post', path: '/auditLog/erasures', type: json, body: BIG }],
  ['POST /auditLog/holds, no token, body over the limit', { method: 'post', path: '/auditLog/holds', type: json, body: BIG }],
  ['POST /auditLog, admin, body over the limit', { method: 'post', path: '/auditLog', token: ADMIN, type: json, body: BIG }],
  // Each route's own limit, named in the 413: holds 64 KB, erasures 16 KB.
  [
    'POST /auditLog/holds, admin, body over 64 KB',
    { method: 'post', path: '/auditLog/holds', token: ADMIN, type: json, body: JSON.stringify({ filter: { blob: 'h'.repeat(70 * 1024) } }) },
  ],
  [
    'POST /auditLog/erasures, admin, body over 16 KB',
    { method: 'post', path: '/auditLog/erasures', token: ADMIN, type: json, body: JSON.stringify({ user: 'e'.repeat(20 * 1024) }) },
  ],
  ['POST /auditLog, admin, invalid JSON', { method: 'post', path: '/auditLog', token: ADMIN, type: json, body: '{nope' }],
  ['POST /auditLog, admin, XML', { method: 'post', path: '/auditLog', token: ADMIN, type: 'application/xml', body: '<a/>' }],
  ['POST /auditLog, admin, text', { method: 'post', path: '/auditLog', token: ADMIN, type: 'text/plain', body: 'note' }],
  ['POST /auditLog, admin, a JSON string', { method: 'post', path: '/auditLog', token: ADMIN, type: json, body: '"a string"' }],
  ['POST /auditLog, admin, an entry', { method: 'post', path: '/auditLog', token: ADMIN, type: json, body: '{"action":"Note","collectionName":"x"}' }],
  ['POST /auditLog, admin, JSON null', { method: 'post', path: '/auditLog', token: ADMIN, type: json, body: 'null' }],
  ['POST /auditLog, admin, an empty JSON body', { method: 'post', path: '/auditLog', token: ADMIN, type: json, body: '' }],
  [
    'POST /auditLog, admin, a __proto__ key',
    { method: 'post', path: '/auditLog', token: ADMIN, type: json, body: '{"__proto__":{"x":1},"action":"Note","collectionName":"x"}' },
  ],
  ['POST /auditLog/erasures, admin, text', { method: 'post', path: '/auditLog/erasures', token: ADMIN, type: 'text/plain', body: 'u1' }],
  ['POST /auditLog/erasures, admin, invalid JSON', { method: 'post', path: '/auditLog/erasures', token: ADMIN, type: json, body: '{' }],
  ['POST /auditLog/holds, admin, an array', { method: 'post', path: '/auditLog/holds', token: ADMIN, type: json, body: '[]' }],
  ['POST /auditLog, admin, gzip', { method: 'post', path: '/auditLog', token: ADMIN, type: json, encoding: 'gzip', body: gzipSync('{"action":"Zipped"}') }],
  [
    'POST /auditLog, admin, gzip over the limit once inflated',
    { method: 'post', path: '/auditLog', token: ADMIN, type: json, encoding: 'gzip', body: gzipSync(BIG) },
  ],
  ['POST /auditLog, admin, an unknown encoding', { method: 'post', path: '/auditLog', token: ADMIN, type: json, encoding: 'compress', body: '{}' }],
  ['POST /auditLog, no token, an unknown encoding', { method: 'post', path: '/auditLog', type: json, encoding: 'compress', body: '{}' }],
  ['POST /auditLog/holds, admin, invalid JSON', { method: 'post', path: '/auditLog/holds', token: ADMIN, type: json, body: '[' }],
  // Reads, after the writes above (the same entries on both, in the same order).
  ['GET /auditLog', { method: 'get', path: '/auditLog?$sort=date&$select=action,collectionName,statusCode', token: ADMIN }],
  ['GET /auditLog/ (trailing slash)', { method: 'get', path: '/auditLog/?$count=true', token: ADMIN }],
  ['HEAD /auditLog', { method: 'head', path: '/auditLog', token: ADMIN }],
  ['GET /auditLog, USER token', { method: 'get', path: '/auditLog', token: USER }],
  ['GET /auditLog?$limit=0', { method: 'get', path: '/auditLog?$limit=0', token: ADMIN }],
  ['GET /auditLog?$sort=nope', { method: 'get', path: '/auditLog?$sort=nope', token: ADMIN }],
  ['GET /auditLog?$where=…', { method: 'get', path: '/auditLog?$where=%7B%22statusCode%22%3A%7B%22%24gte%22%3A400%7D%7D&$select=statusCode', token: ADMIN }],
  ['GET /auditLog/<malformed id>', { method: 'get', path: '/auditLog/nope', token: ADMIN }],
  ['GET /auditLog/history/users/1', { method: 'get', path: '/auditLog/history/users/1', token: ADMIN }],
  ['GET /auditLog/stats', { method: 'get', path: '/auditLog/stats?groupBy=action', token: ADMIN }],
  ['GET /auditLog/stats?groupBy=nope', { method: 'get', path: '/auditLog/stats?groupBy=nope', token: ADMIN }],
  ['GET /auditLog/export?format=csv', { method: 'get', path: '/auditLog/export?format=csv&$select=action,statusCode', token: ADMIN }],
  ['GET /auditLog/export?format=nope', { method: 'get', path: '/auditLog/export?format=nope', token: ADMIN }],
  ['HEAD /auditLog/export', { method: 'head', path: '/auditLog/export', token: ADMIN }],
  ['GET /auditLog/verify', { method: 'get', path: '/auditLog/verify', token: ADMIN }],
  ['GET /auditLog/retention', { method: 'get', path: '/auditLog/retention', token: ADMIN }],
  ['GET /auditLog/holds', { method: 'get', path: '/auditLog/holds', token: ADMIN }],
  ['DELETE /auditLog/holds/<unknown>', { method: 'delete', path: '/auditLog/holds/0123456789abcdef01234567', token: ADMIN }],
  ['GET /auditLog/openapi.json, no token', { method: 'get', path: '/auditLog/openapi.json' }],
  ['GET /auditLog/ui/ (trailing slash)', { method: 'get', path: '/auditLog/ui/' }],
  ['GET /auditLog/UI (case)', { method: 'get', path: '/auditLog/UI' }],
  ['GET /auditLog/stats/ (trailing slash)', { method: 'get', path: '/auditLog/stats/?groupBy=action', token: ADMIN }],
  ['PUT /auditLog/ (trailing slash)', { method: 'put', path: '/auditLog/', token: ADMIN }],
  ['GET /auditLog// (two slashes)', { method: 'get', path: '/auditLog//', token: ADMIN }],
  ['OPTIONS /auditLog', { method: 'options', path: '/auditLog', token: ADMIN }],
  // Routes that take no body never read one: the answer is the route's, whatever was sent.
  ['PUT /auditLog, invalid JSON', { method: 'put', path: '/auditLog', token: ADMIN, type: json, body: '{nope' }],
  ['PATCH /auditLog/<id>, body over 1 MB', { method: 'patch', path: '/auditLog/0123456789abcdef01234567', token: ADMIN, type: json, body: BIG }],
  [
    'DELETE /auditLog/holds/<unknown>, invalid JSON',
    { method: 'delete', path: '/auditLog/holds/0123456789abcdef01234567', token: ADMIN, type: json, body: '{' },
  ],
  ['POST /auditLog/ui, body over 1 MB', { method: 'post', path: '/auditLog/ui', type: json, body: BIG }],
  ['POST /auditLog/ui/x.js, invalid JSON', { method: 'post', path: '/auditLog/ui/x.js', type: json, body: '{' }],
  ['OPTIONS /auditLog/stats', { method: 'options', path: '/auditLog/stats', token: ADMIN }],
  ['OPTIONS /auditLog/holds/<id>', { method: 'options', path: '/auditLog/holds/abc', token: ADMIN }],
];

describe('the same answers on Hapi as on Express', () => {
  const urls = appPair(OPTIONS);
  test.each(CASES)('%s', async (_name, c) => {
    const [onExpress, onHapi] = [await send(urls.express, c), await send(urls.hapi, c)];
    expect(onHapi).toEqual(onExpress);
  });
});

describe('the same answers with publicRoutes, no manual entries and no admin page', () => {
  const urls = appPair({ scope: ['admin'], publicRoutes: true, manualEntries: false, ui: false });
  const cases: Array<[string, Case]> = [
    ['GET /auditLog, no token', { method: 'get', path: '/auditLog' }],
    ['GET /auditLog/stats, no token', { method: 'get', path: '/auditLog/stats' }],
    ['GET /auditLog/verify, no token', { method: 'get', path: '/auditLog/verify' }],
    ['POST /auditLog, no token', { method: 'post', path: '/auditLog', type: json, body: '{"action":"Note"}' }],
    ['POST /auditLog, admin', { method: 'post', path: '/auditLog', token: ADMIN, type: json, body: '{"action":"Note"}' }],
    ['PUT /auditLog, admin', { method: 'put', path: '/auditLog', token: ADMIN }],
    ['OPTIONS /auditLog', { method: 'options', path: '/auditLog' }],
    ['GET /auditLog/ui, no admin page', { method: 'get', path: '/auditLog/ui' }],
    ['POST /auditLog/holds, no holdScope', { method: 'post', path: '/auditLog/holds', token: ADMIN, type: json, body: '{}' }],
    ['POST /auditLog/erasures, no encryption', { method: 'post', path: '/auditLog/erasures', token: ADMIN, type: json, body: '{}' }],
  ];
  test.each(cases)('%s', async (_name, c) => {
    const [onExpress, onHapi] = [await send(urls.express, c), await send(urls.hapi, c)];
    expect(onHapi).toEqual(onExpress);
  });
});

describe('the same entries on Hapi as on Express, beyond the contract scenario', () => {
  const apps: Record<'express' | 'hapi', ContractApp | null> = { express: null, hapi: null };
  const options = { store: memoryStore(), scope: ['admin'], echoRequestId: true, maxFieldBytes: 256 };
  beforeAll(async () => {
    apps.express = await expressDriver.start({ ...options, store: memoryStore() });
    apps.hapi = await hapiDriver.start({ ...options, store: memoryStore() });
  });
  afterAll(async () => {
    await apps.express?.close();
    await apps.hapi?.close();
  });

  const ENTRY_CASES: Array<[string, (agent: request.Agent) => request.Test]> = [
    ['a query string', (agent) => agent.post('/api/v1/users?draft=1&x=y').send({ name: 'q' })],
    ['a body over maxFieldBytes', (agent) => agent.post('/api/v1/users').send({ name: 'big', blob: 'z'.repeat(1000) })],
    ['an empty body', (agent) => agent.delete('/api/v1/users/0123456789abcdef01234567')],
    ['an encoded path', (agent) => agent.delete('/api/v1/users/a%20b/roles/r%2F1')],
    ['a secret in the query', (agent) => agent.put('/api/v1/users/0123456789abcdef01234567?token=s3cret&page=2').send({ name: 'n' })],
    [
      'a user and a forwarded address',
      (agent) => agent.post('/auth/login').set('Authorization', `Bearer ${USER}`).set('X-Forwarded-For', '10.0.0.9').send({ password: 'p' }),
    ],
  ];

  test.each(ENTRY_CASES)('%s', async (name, make) => {
    const seen: Record<string, unknown> = {};
    for (const framework of ['express', 'hapi'] as const) {
      const app = apps[framework]!;
      const id = `case-${name.replace(/\W+/g, '-')}`;
      const res = await make(request.agent(app.url)).set('X-Request-Id', id);
      const entries = await entriesOf(app, id);
      expect(entries).toHaveLength(1);
      seen[framework] = { status: res.status, echoed: res.headers['x-request-id'], entry: normalise(entries[0]) };
    }
    expect(seen.hapi).toEqual(seen.express);
  });
});
