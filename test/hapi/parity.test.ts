/**
 * The audit log's own routes answer on Hapi exactly as on Express, request for request: status,
 * media type, Allow and the routes' own headers, and body, for the answers the contract suite does not pin (wrong
 * methods, the admin page's refusals, bodies refused before or after auth). The Express app is
 * the audit middleware alone (express-jwt for the token, no body parser of the app's), the Hapi
 * one the plugin with @hapi/jwt in mode 'try' (test/contract/hapi-driver.ts).
 */
import type { AddressInfo } from 'net';
import type { Server } from 'http';
import express from 'express';
import { expressjwt } from 'express-jwt';
import request from 'supertest';
import { memoryStore } from 'express-audit-log';
import { startHapiApp } from '../contract/hapi-driver';
import { ADMIN, SECRET, USER } from '../support/app';
import { normalise } from '../contract/scenario';

interface Case {
  method: 'get' | 'head' | 'post' | 'put' | 'patch' | 'delete' | 'options';
  path: string;
  token?: string;
  type?: string;
  body?: string;
}

interface Seen {
  status: number;
  type: string | null;
  allow: string | null;
  /** The headers the routes set themselves: caching, sniffing, the auth challenge, the page's policy. */
  headers: Record<string, unknown>;
  body: unknown;
}

const COMPARED_HEADERS = ['cache-control', 'x-content-type-options', 'www-authenticate', 'content-security-policy', 'x-frame-options'];

const OPTIONS = { scope: ['admin'], holdScope: ['admin'], eraseScope: ['admin'], encryption: { masterKey: Buffer.alloc(32, 7) } };
const BIG = JSON.stringify({ action: 'Note', collectionName: 'x', blob: 'b'.repeat(1024 * 1024 + 10) });

async function expressApp(): Promise<{ url: string; close: () => Promise<void> }> {
  const app = express();
  app.use(expressjwt({ secret: SECRET, algorithms: ['HS256'], credentialsRequired: false }));
  const { auditLog } = await import('express-audit-log');
  app.use(auditLog({ store: memoryStore(), ...OPTIONS }));
  const server: Server = await new Promise((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

async function send(url: string, c: Case): Promise<Seen> {
  let test = request(url)[c.method](c.path);
  if (c.token) test = test.set('Authorization', `Bearer ${c.token}`);
  if (c.type) test = test.set('Content-Type', c.type);
  const res = await (c.body === undefined ? test : test.send(c.body)).ok(() => true);
  const type = typeof res.headers['content-type'] === 'string' ? (res.headers['content-type'].split(';')[0]?.trim() ?? null) : null;
  const body = type === 'application/json' ? res.body : c.method === 'head' ? '' : res.text;
  const headers = Object.fromEntries(COMPARED_HEADERS.map((name) => [name, res.headers[name] ?? null]));
  return { status: res.status, type, allow: (res.headers.allow as string | undefined) ?? null, headers, body: normalise(sameAuthWords(body)) };
}

/** A 401 names where the framework keeps auth (req.auth, request.auth.credentials): the rest of the message is the same. */
function sameAuthWords(body: unknown): unknown {
  const message = (body as { message?: unknown } | null)?.message;
  if (typeof message !== 'string') return body;
  return { ...(body as object), message: message.replace(/\((req\.auth|request\.auth\.credentials) is not set\)/, '(<auth> is not set)') };
}

let expressUrl: string;
let hapiUrl: string;
const closers: Array<() => Promise<void>> = [];
beforeAll(async () => {
  const e = await expressApp();
  expressUrl = e.url;
  closers.push(e.close);
  const hapi = await startHapiApp({ store: memoryStore(), ...OPTIONS });
  hapiUrl = hapi.info.uri;
  closers.push(async () => void (await hapi.stop()));
});
afterAll(async () => {
  await Promise.all(closers.map((close) => close()));
});

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
  ['POST /auditLog/holds, admin, invalid JSON', { method: 'post', path: '/auditLog/holds', token: ADMIN, type: json, body: '[' }],
];

test.each(CASES)('%s: the same answer on Hapi as on Express', async (_name, c) => {
  const [onExpress, onHapi] = [await send(expressUrl, c), await send(hapiUrl, c)];
  expect(onHapi).toEqual(onExpress);
});
