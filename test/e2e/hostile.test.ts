/**
 * Hostile input, end to end over real HTTP: exotic and malicious request bodies and results,
 * arbitrary query strings and `$where` filters (property-based, fast-check), operator
 * injection, every error path of the audit routes, and secrets that must never reach the
 * store. Each runs on the embedded store and on MongoDB (the real driver against the
 * in-process wire-protocol server, or MONGODB_URI).
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import { expressjwt } from 'express-jwt';
import request from 'supertest';
import fc from 'fast-check';
import { ObjectId } from 'bson';
import { auditLog, memoryStore, FIELDS, type AuditEntry, type AuditLogMiddleware, type AuditStore } from 'express-audit-log';
import { ADMIN, SECRET, createTestApp, token, type TestApp } from '../support/app';
import { STORE_KINDS, openStore, type OpenedStore, type StoreKind } from '../support/stores';
import { fuzzRuns } from '../support/fast-check';
import { settle } from '../support/wait';
import { send, serve, type Served } from '../pipeline/http-load';

const kinds = (process.env.EAL_STORES ? STORE_KINDS.filter((k) => process.env.EAL_STORES!.split(',').includes(k)) : STORE_KINDS).filter(
  (k): k is StoreKind => k !== 'file',
);

/** Strings that appear only inside stored entries: an error body that contains one leaks audit data. */
const MARKERS = ['marker-user-5f2c9e', 'marker-note-a81d07', 'marker-payload-c3b6e4'];

function seedEntry(overrides: Partial<AuditEntry>): AuditEntry {
  return {
    _id: new ObjectId().toHexString(),
    date: new Date(),
    method: 'POST',
    action: 'Create',
    endpoint: '/role',
    user: MARKERS[0]!,
    collectionName: 'role',
    childCollectionName: null,
    associationType: null,
    documents: ['d1'],
    payload: { secretish: MARKERS[2]! },
    params: null,
    result: null,
    statusCode: 201,
    isError: false,
    responseMessage: null,
    ipAddress: '127.0.0.1',
    notes: MARKERS[1]!,
    requestId: null,
    traceId: null,
    durationMs: 1,
    userAgent: null,
    truncated: null,
    ...overrides,
  };
}

function containsMarker(text: string): boolean {
  return MARKERS.some((marker) => text.includes(marker));
}

/** Walks a value's own keys at every depth. */
function allKeys(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const item of value) allKeys(item, out);
  else if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    for (const key of Object.keys(value)) {
      out.push(key);
      allKeys((value as Record<string, unknown>)[key], out);
    }
  }
  return out;
}

function nested(depth: number, leaf: unknown = 1): unknown {
  let value = leaf;
  for (let i = 0; i < depth; i++) value = { a: value };
  return value;
}

/** How deep the `a` chain goes before something other than `{ a }` is found, and what that is. */
function chain(value: unknown): { depth: number; leaf: unknown } {
  let depth = 0;
  let current = value;
  while (current !== null && typeof current === 'object' && 'a' in (current as object)) {
    current = (current as { a: unknown }).a;
    depth++;
  }
  return { depth, leaf: current };
}

describe.each(kinds)('hostile bodies and results on the %s store', (kind) => {
  let opened: OpenedStore;
  let audit: AuditLogMiddleware;
  let app: express.Express;
  let served: Served;
  let made = 0;

  beforeAll(async () => {
    opened = await openStore(kind);
    audit = auditLog({ store: opened.store, echoRequestId: true, scope: 'admin' });
    app = express();
    app.use(express.json({ limit: '10mb' }));
    app.use(express.raw({ type: 'application/octet-stream', limit: '10mb' }));
    app.use(expressjwt({ secret: SECRET, algorithms: ['HS256'], credentialsRequired: false }));
    app.use(audit);
    app.post('/ok', (_req, res) => {
      res.status(201).json({ ok: true });
    });
    app.post('/echo', (req, res) => {
      res.json(req.body);
    });
    // What a custom body parser (BSON, msgpack, a framework) may leave in req.body.
    app.post('/exotic-body', (req, res) => {
      const circular: Record<string, unknown> = { name: 'loop' };
      circular.self = circular;
      req.body = {
        big: 2n ** 70n,
        when: new Date('2026-02-03T04:05:06.007Z'),
        badDate: new Date('nope'),
        id: new ObjectId('65f0c0ffee65f0c0ffee65f0'),
        map: new Map<unknown, unknown>([
          ['k', 1],
          [2, 'two'],
        ]),
        set: new Set([1, 'a']),
        buf: Buffer.from('abc'),
        bytes: new Uint8Array(5),
        circular,
        fn: () => 1,
        sym: Symbol('s'),
        undef: undefined,
        nan: NaN,
        inf: -Infinity,
        list: [undefined, () => 1, 3],
      };
      res.status(201).json({ ok: true });
    });
    app.post('/result/:kind', (req, res) => {
      const circular: Record<string, unknown> = { name: 'loop' };
      circular.self = circular;
      switch (req.params.kind) {
        case 'bigint':
          res.json({ n: 10n });
          return;
        case 'circular-json':
          res.json(circular);
          return;
        case 'circular-send':
          res.send(circular);
          return;
        case 'buffer':
          res.type('application/octet-stream').send(Buffer.from([0, 1, 2, 255]));
          return;
        case 'bad-utf8':
          res.type('text/plain').send(Buffer.from([0x61, 0xff, 0xfe, 0x62]));
          return;
        case 'exotic-json':
          res.json({ when: new Date('2026-02-03T04:05:06.007Z'), id: new ObjectId('65f0c0ffee65f0c0ffee65f0'), map: new Map([['k', 1]]), set: new Set([1]) });
          return;
        case 'deep':
          res.json(nested(100));
          return;
        case 'big':
          res.json({ blob: 'x'.repeat(1_000_000) });
          return;
        default:
          res.status(404).json({ message: 'no such kind' });
      }
    });
    app.use((error: Error & { status?: number }, _req: Request, res: Response, _next: NextFunction) => {
      const status = error.status ?? 500;
      res.status(status).json({ statusCode: status, message: status === 500 ? 'An internal server error occurred' : error.message });
    });
    served = await serve(app, 4);
  });

  afterAll(async () => {
    await served.close();
    // Whatever came in, the writer never failed a write and never dropped an entry.
    expect(audit.stats()).toMatchObject({ recorded: made, written: made, failed: 0, dropped: 0, queued: 0 });
    await audit.close();
    await opened.cleanup();
  });

  /** The entry for one request, as the query route returns it (keys decoded), and as stored. */
  async function entryOf(res: { headers: Record<string, unknown> }): Promise<{ entry: AuditEntry; raw: AuditEntry }> {
    made++;
    await settle(audit, made);
    const requestId = res.headers['x-request-id'] as string;
    const found = await request(app).get('/auditLog').query({ requestId }).set('Authorization', `Bearer ${ADMIN}`).expect(200);
    expect(found.body.docs).toHaveLength(1);
    const entry = found.body.docs[0] as AuditEntry;
    const raw = (await opened.store.findById(entry._id))!;
    // Stored keys are always storable: no '$' start, no '.', no NUL, no '__proto__'.
    for (const key of allKeys([raw.payload, raw.params, raw.result])) {
      expect({ key, ok: !key.startsWith('$') && !key.includes('.') && !key.includes('\u0000') && key !== '__proto__' }).toEqual({ key, ok: true });
    }
    return { entry, raw };
  }

  test('deep nesting: capped at maxDepth with a marker, in the payload and in the result', async () => {
    const deepText = `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`;
    const res = await request(app).post('/ok').set('Content-Type', 'application/json').send(deepText).expect(201);
    const { entry } = await entryOf(res);
    expect(chain(entry.payload)).toEqual({ depth: 32, leaf: '[Truncated: nested deeper than 32]' });

    const echoed = await request(app).post('/result/deep').expect(200);
    expect(chain(echoed.body)).toEqual({ depth: 100, leaf: 1 }); // the client gets the whole answer
    const { entry: second } = await entryOf(echoed);
    expect(chain(second.result)).toEqual({ depth: 32, leaf: '[Truncated: nested deeper than 32]' });
  });

  test('very large bodies and results: replaced by a marker with the size, named in truncated; the client gets everything', async () => {
    const body = { blob: 'y'.repeat(5 * 1024 * 1024) };
    const res = await request(app).post('/ok').send(body).expect(201);
    const { entry } = await entryOf(res);
    expect(entry.payload).toMatch(/^\[Truncated: \d+ bytes > 65536 bytes\]$/);
    expect(entry.truncated).toEqual(['payload']);

    // Bytes, not characters: 30,000 '€' are 90,000 bytes of UTF-8, over the 64 KiB limit, even
    // when no Content-Length says so (a chunked body) and even in the result.
    const euros = { blob: '€'.repeat(30_000) };
    const chunked = await send(served, 'POST', '/echo', { body: euros, chunked: true });
    expect(chunked.status).toBe(200);
    const { entry: multibyte } = await entryOf(chunked);
    expect(multibyte.payload).toBe('[Truncated: more than 65536 bytes]');
    expect(multibyte.result).toMatch(/^\[Truncated: \d+ bytes > 65536 bytes\]$/);
    expect(multibyte.truncated).toEqual(['payload', 'result']);

    const big = await request(app).post('/result/big').expect(200);
    expect(big.body.blob).toHaveLength(1_000_000);
    const { entry: second } = await entryOf(big);
    expect(second.result).toMatch(/^\[Truncated: \d+ bytes > 65536 bytes\]$/);
    expect(second.truncated).toEqual(['result']);
  });

  test('binary: a Buffer body and a binary result become a marker with their size; text that is not UTF-8 is decoded with U+FFFD', async () => {
    const res = await request(app)
      .post('/ok')
      .set('Content-Type', 'application/octet-stream')
      .send(Buffer.from([1, 2, 3, 0xff, 0]))
      .expect(201);
    expect((await entryOf(res)).entry.payload).toBe('[Binary: 5 bytes]');

    const binary = await request(app).post('/result/buffer').expect(200);
    expect((await entryOf(binary)).entry.result).toBe('[Binary: 4 bytes]');

    const text = await request(app).post('/result/bad-utf8').expect(200);
    expect((await entryOf(text)).entry.result).toBe('a\uFFFD\uFFFDb');
  });

  test('BigInt, Date, ObjectId, Map, Set, typed arrays, functions, NaN and cycles in req.body: storable values or readable markers', async () => {
    const res = await request(app).post('/exotic-body').expect(201);
    const { entry } = await entryOf(res);
    expect(entry.payload).toEqual({
      big: '1180591620717411303424',
      when: '2026-02-03T04:05:06.007Z',
      badDate: null,
      id: '65f0c0ffee65f0c0ffee65f0',
      map: { k: 1, 2: 'two' },
      set: [1, 'a'],
      buf: '[Binary: 3 bytes]',
      bytes: '[Binary: 5 bytes]',
      circular: { name: 'loop', self: '[Circular]' },
      nan: null,
      inf: null,
      list: [null, null, 3],
    });
  });

  test('results res.json cannot serialize (BigInt, cycles): the app answers as it would without the middleware, the entry records the error', async () => {
    for (const kind of ['bigint', 'circular-json', 'circular-send']) {
      const res = await request(app).post(`/result/${kind}`).expect(500);
      expect(res.body).toEqual({ statusCode: 500, message: 'An internal server error occurred' });
      const { entry } = await entryOf(res);
      expect(entry).toMatchObject({ statusCode: 500, isError: true, result: null, responseMessage: 'An internal server error occurred' });
    }
    const exotic = await request(app).post('/result/exotic-json').expect(200);
    const { entry } = await entryOf(exotic);
    expect(entry.result).toEqual({ when: '2026-02-03T04:05:06.007Z', id: '65f0c0ffee65f0c0ffee65f0', map: {}, set: {} });
  });

  test('strings that are not valid UTF-8, and lone surrogates in values and keys: stored as U+FFFD, the same on every store', async () => {
    const bytes = Buffer.concat([Buffer.from('{"s":"a'), Buffer.from([0xff, 0xfe]), Buffer.from('b","k'), Buffer.from([0xc3]), Buffer.from('ey":1}')]);
    const res = await send(served, 'POST', '/echo', { raw: bytes });
    expect(res.status).toBe(200);
    const { entry } = await entryOf(res);
    expect(entry.payload).toEqual({ s: 'a\uFFFD\uFFFDb', 'k\uFFFDey': 1 });

    const lone = await request(app).post('/echo').set('Content-Type', 'application/json').send('{"s":"x\\ud800y","\\udfff":["\\udc00"]}').expect(200);
    const { entry: second } = await entryOf(lone);
    expect(second.payload).toEqual({ s: 'x\uFFFDy', '\uFFFD': ['\uFFFD'] });
    expect(second.result).toEqual(second.payload);
  });

  test("'__proto__' and 'constructor' keys are stored as data, faithfully, and never pollute a prototype", async () => {
    const text =
      '{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}},"nested":{"__proto__":{"isAdmin":true}},"list":[{"__proto__":{"x":1}}]}';
    const res = await request(app).post('/echo').set('Content-Type', 'application/json').send(text).expect(200);
    const { entry } = await entryOf(res);
    expect(JSON.stringify(entry.payload)).toBe(text);
    expect(JSON.stringify(entry.result)).toBe(text);
    expect(Object.getPrototypeOf(entry.payload)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
    expect((Object.prototype as unknown as Record<string, unknown>).x).toBeUndefined();
    // $where paths reach such keys as they were sent.
    const found = await request(app)
      .get('/auditLog')
      .query({ $where: JSON.stringify({ 'payload.__proto__.polluted': 'yes', 'payload.nested.__proto__.isAdmin': true }) })
      .set('Authorization', `Bearer ${ADMIN}`)
      .expect(200);
    expect(found.body.docs.map((doc: AuditEntry) => doc._id)).toEqual([entry._id]);
  });

  test("keys with '$', '.', '%', NUL and the empty key: stored encoded, answered exactly as sent", async () => {
    const body = { $set: { 'a.b': 1 }, 'x.y': { $gt: 2 }, '%': 'pct', '%2E': 'literal', 'a\u0000b': 'nul', '': 'empty', $: 1 };
    const res = await request(app).post('/echo').send(body).expect(200);
    const { entry } = await entryOf(res);
    expect(entry.payload).toEqual(body);
    expect(entry.result).toEqual(body);
    const found = await request(app)
      .get('/auditLog')
      .query({ $where: JSON.stringify({ 'payload.%': 'pct', 'payload.%2E': 'literal', 'payload.a\u0000b': 'nul' }) })
      .set('Authorization', `Bearer ${ADMIN}`)
      .expect(200);
    expect(found.body.docs.map((doc: AuditEntry) => doc._id)).toEqual([entry._id]);
  });

  test('after all of that the app and the writer still work: a plain request is recorded', async () => {
    const res = await request(app).post('/ok').send({ plain: true }).expect(201);
    expect((await entryOf(res)).entry.payload).toEqual({ plain: true });
  });
});

/* ------------------------------------------------------------------------------------------ */
/* Query routes: arbitrary query strings and $where filters                                   */
/* ------------------------------------------------------------------------------------------ */

const FIELD_NAMES = Object.keys(FIELDS);
const CONTROL = [
  '$select',
  '$sort',
  '$skip',
  '$page',
  '$limit',
  '$count',
  '$term',
  '$searchFields',
  '$where',
  '$exclude',
  'from',
  'to',
  '$embed',
  '$flatten',
  '$text',
];
const OPERATORS = [
  '$and',
  '$or',
  '$nor',
  '$eq',
  '$ne',
  '$gt',
  '$gte',
  '$lt',
  '$lte',
  '$in',
  '$nin',
  '$exists',
  '$size',
  '$all',
  '$elemMatch',
  '$not',
  '$regex',
  '$options',
  '$where',
  '$expr',
  '$function',
  '$text',
  '$mod',
  '$type',
  '$jsonSchema',
  '$comment',
];

const scalar = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom('2026-01-31', '2026-01-31T12:00:00Z', '65f0c0ffee65f0c0ffee65f0', 'ONE_MANY', 'null', 'true', MARKERS[0]!),
);

const fieldPath = fc.oneof(
  fc.constantFrom(...FIELD_NAMES),
  fc.constantFrom('payload.a', 'result.x.y', 'params.id', 'payload.$x', 'payload..a', 'user.name', 'documents.0', 'payload.__proto__', ''),
  fc.string({ maxLength: 8 }),
);

const { where } = fc.letrec<{ where: Record<string, unknown>; condition: unknown; operators: Record<string, unknown> }>((tie) => ({
  where: fc.dictionary(fc.oneof(fieldPath, fc.constantFrom(...OPERATORS)), tie('condition'), { maxKeys: 3 }),
  condition: fc.oneof(
    { maxDepth: 4, depthIdentifier: 'where' },
    scalar,
    fc.array(fc.oneof(scalar, tie('where')), { maxLength: 3 }),
    tie('operators'),
    tie('where'),
  ),
  operators: fc.dictionary(
    fc.constantFrom(...OPERATORS),
    fc.oneof({ maxDepth: 4, depthIdentifier: 'where' }, scalar, fc.array(scalar, { maxLength: 3 }), tie('operators')),
    { maxKeys: 3 },
  ),
}));

/** Shapes MongoDB accepts but mongoose refused to cast (503s): operators about arrays on fields that hold one scalar. */
const typedShape = fc
  .tuple(
    fc.constantFrom(...FIELD_NAMES),
    fc.constantFrom<unknown>(
      { $size: 0 },
      { $size: 1 },
      { $elemMatch: { $eq: 'a' } },
      { $elemMatch: { $gt: 1 } },
      { $all: [] },
      { $all: ['a'] },
      { $all: [null] },
      { $not: { $size: 0 } },
      { $gte: null },
      { $exists: false },
    ),
  )
  .map(([field, condition]) => ({ [field]: condition }));

const queryKey = fc.oneof(
  fc.constantFrom(...CONTROL, ...FIELD_NAMES),
  fc
    .tuple(
      fc.constantFrom(...CONTROL, ...FIELD_NAMES),
      fc.constantFrom('[$ne]', '[$gt]', '[]', '[0]', '[a][b]', '[__proto__]', '[constructor][prototype]', '.x', '[', ']'),
    )
    .map(([k, s]) => k + s),
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString', '__proto__[polluted]', 'a[__proto__][polluted]'),
  fc.string({ maxLength: 10 }),
);

const queryValue = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.integer().map(String),
  fc.double().map(String),
  fc.constantFrom(
    '-1',
    '0',
    '1',
    '20',
    '1000',
    '1001',
    '1000000',
    '1000001',
    '1e3',
    '0x10',
    ' 5',
    '1.5',
    '99999999999999999999',
    'NaN',
    'Infinity',
    'true',
    'false',
    'null',
    '[]',
    '{}',
    '["a",1]',
    '{"$gt":0}',
    '{"$ne":null}',
    '15m',
    '7d',
    '-date',
    'user,-date',
    'payload',
    '_id,,user',
  ),
  where.map((w) => JSON.stringify(w)),
  fc.string({ minLength: 200, maxLength: 3000 }),
  fc.constantFrom('.*', '(a+)+$', '[', '\\', '^$', '(?<x>a)\\k<x>', 'a{1,99999}', '%', '%zz', '%E0%A4', '%00', '\u0000'),
);

/** Percent-encodes the UTF-8 bytes of `text` (lone surrogates become U+FFFD, as a browser would send them). */
function pct(text: string, keep: (byte: number) => boolean): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) out += keep(byte) ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  return out;
}

const UNRESERVED = (b: number) =>
  (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b === 0x2d || b === 0x2e || b === 0x5f || b === 0x7e;

/**
 * Three ways a client may put text in a URL: properly encoded; raw where HTTP lets it be
 * (every visible byte, '%' included, so escapes may be malformed); raw Latin-1 bytes, which
 * reach the server as a URL that is not UTF-8.
 */
function encodeAs(text: string, how: 'encoded' | 'raw' | 'latin1'): string {
  if (how === 'encoded') return pct(text, UNRESERVED);
  if (how === 'raw') return pct(text, (b) => b > 0x20 && b < 0x7f && b !== 0x26 && b !== 0x3d && b !== 0x23);
  return [...text]
    .map((ch) => {
      const code = ch.codePointAt(0)!;
      return code > 0x20 && code <= 0xff && code !== 0x7f && ch !== '&' && ch !== '=' && ch !== '#' ? ch : pct(ch, UNRESERVED);
    })
    .join('');
}

const encoding = fc.constantFrom('encoded' as const, 'raw' as const, 'latin1' as const);
const queryString = fc
  .array(fc.tuple(queryKey, fc.option(queryValue, { nil: undefined }), encoding), { maxLength: 5 })
  .map((pairs) => pairs.map(([key, value, how]) => (value === undefined ? encodeAs(key, how) : `${encodeAs(key, how)}=${encodeAs(value, how)}`)).join('&'));

interface Routes {
  served: Served;
  t: TestApp;
  opened: OpenedStore;
  seeded: AuditEntry[];
}

async function routesApp(kind: StoreKind, parser: 'simple' | 'extended'): Promise<Routes> {
  const opened = await openStore(kind);
  const t = createTestApp({ store: opened.store, scope: 'admin' }, (app) => app.set('query parser', parser));
  await t.audit.flush();
  const seeded = [
    seedEntry({ notes: `${MARKERS[1]} price (USD) was 1.5*2? [sic] a.*b ^$ \\d+ |x|` }),
    seedEntry({ user: '{"$ne":"x"}', notes: null, payload: null }),
    seedEntry({ user: 'alice', statusCode: 500, isError: true, date: new Date(Date.now() - 3600_000) }),
  ];
  await opened.store.insertMany(seeded);
  return { served: await serve(t.app, 10), t, opened, seeded };
}

async function closeRoutes(routes: Routes): Promise<void> {
  await routes.served.close();
  await routes.t.audit.close();
  await routes.opened.cleanup();
}

function get(routes: Routes, pathAndQuery: string, auth: string | null = ADMIN) {
  return send(routes.served, 'GET', pathAndQuery, { headers: auth ? { authorization: `Bearer ${auth}` } : {} });
}

/** The answer is 200 with a list or a count, or 400 naming a parameter; never anything else, never audit data in an error. */
function expectSane(answer: { status: number; text: string; headers: Record<string, unknown> }, query: string): void {
  expect({ query, status: answer.status }).toEqual({ query, status: answer.status === 200 ? 200 : 400 });
  expect(answer.headers['cache-control']).toBe('no-store');
  expect(answer.headers['x-content-type-options']).toBe('nosniff');
  const body = JSON.parse(answer.text) as unknown;
  if (answer.status === 200) {
    expect(typeof body === 'number' || (typeof body === 'object' && body !== null && Array.isArray((body as { docs?: unknown }).docs))).toBe(true);
  } else {
    expect(body).toEqual({ statusCode: 400, error: 'Bad Request', message: expect.any(String), parameter: expect.any(String) });
    if (!query.includes('marker')) expect(containsMarker(answer.text)).toBe(false);
  }
}

describe.each(kinds)('query routes under arbitrary input (%s store)', (kind) => {
  // EAL_FC_RUNS=5000 for a deeper search than the default run's.
  const runs = Number(process.env.EAL_FC_RUNS) || fuzzRuns(kind === 'mongo' ? 120 : 300);

  describe.each(['simple', 'extended'] as const)('with the %s query parser', (parser) => {
    let routes: Routes;
    beforeAll(async () => {
      routes = await routesApp(kind, parser);
    });
    afterAll(() => closeRoutes(routes));

    test('property: any query string gets 200 or 400, never a 5xx, never a hang, and pollutes nothing', async () => {
      await fc.assert(
        fc.asyncProperty(queryString, async (query) => {
          expectSane(await get(routes, `/auditLog?${query}`), query);
          expect(({} as Record<string, unknown>).polluted).toBeUndefined();
        }),
        { numRuns: runs },
      );
      // The history route runs the same parser behind two path parameters.
      await fc.assert(
        fc.asyncProperty(fc.string({ minLength: 1, maxLength: 20 }), queryString, async (segment, query) => {
          const path = `/auditLog/history/${pct(segment, UNRESERVED)}/${pct(segment, UNRESERVED)}?${query}`;
          expectSane(await get(routes, path), query);
        }),
        { numRuns: Math.round(runs / 3) },
      );
    });

    test('property: any $where JSON gets 200 or 400, never a 5xx', async () => {
      await fc.assert(
        fc.asyncProperty(fc.oneof(where, typedShape), async (filter) => {
          const query = `$where=${pct(JSON.stringify(filter), UNRESERVED)}`;
          expectSane(await get(routes, `/auditLog?${query}`), query);
        }),
        { numRuns: runs },
      );
    });

    test('a NUL in $term, and $size/$elemMatch on fields that hold one scalar, are 200 or 400, never a 503', async () => {
      for (const filter of ['{"_id":{"$size":0}}', '{"user":{"$elemMatch":{"$eq":"alice"}}}', '{"date":{"$size":1}}', '{"statusCode":{"$size":1}}']) {
        const answer = await get(routes, `/auditLog?$where=${encodeURIComponent(filter)}`);
        expect({ filter, status: answer.status, body: answer.json() }).toEqual({ filter, status: 400, body: expect.objectContaining({ parameter: '$where' }) });
      }
      const lists = await get(routes, `/auditLog?$where=${encodeURIComponent('{"documents":{"$size":1},"user":"alice"}')}`);
      expect((lists.json() as { docs: AuditEntry[] }).docs.map((d) => d._id)).toEqual([routes.seeded[2]!._id]);
      const nul = await get(routes, '/auditLog?$term=a%00b');
      expect({ status: nul.status, docs: (nul.json() as { docs?: unknown[] }).docs }).toEqual({ status: 200, docs: [] });
    });

    test('operator injection through field filters is rejected or taken literally', async () => {
      for (const query of ['user[$ne]=x', 'user[$regex]=.*', 'statusCode[$gt]=0', '_id[$exists]=true', 'user[]=alice&user[$ne]=x', 'user[$ne]=x&user=alice']) {
        const answer = await get(routes, `/auditLog?${query}`);
        expect({ query, status: answer.status }).toEqual({ query, status: 400 });
      }
      // The extended parser drops '__proto__' keys; either way nothing is polluted and nothing filters.
      const proto = await get(routes, '/auditLog?__proto__[user]=x&constructor[prototype][user]=x');
      expect([200, 400]).toContain(proto.status);
      expect(({} as Record<string, unknown>).user).toBeUndefined();
      const gt = await get(routes, `/auditLog?statusCode=${encodeURIComponent('{"$gt":0}')}`);
      expect(gt.status).toBe(400);
      expect(gt.json()).toMatchObject({ parameter: 'statusCode' });
      // A value that looks like an operator is a literal: it finds the one entry whose user is that text.
      const literal = await get(routes, `/auditLog?user=${encodeURIComponent('{"$ne":"x"}')}`);
      expect(literal.status).toBe(200);
      expect((literal.json() as { docs: AuditEntry[] }).docs.map((d) => d._id)).toEqual([routes.seeded[1]!._id]);
    });

    test('$term with regular-expression metacharacters is literal; very long values are refused; the worst case is bounded', async () => {
      const [s0, s1, s2] = routes.seeded.map((entry) => entry._id);
      const expected: Array<[string, string[]]> = [
        ['.*', [s0!]],
        ['a.*b ^$ \\d+ |x|', [s0!]],
        ['(USD) WAS 1.5*2? [SIC]', [s0!]],
        ['[', [s0!]],
        ['\\', [s0!]],
        ['(a+)+$', []],
        ['^alice$', []],
        ['ALICE', [s2!]],
        ['"$ne"', [s1!]],
        ['%', []],
      ];
      for (const [term, ids] of expected) {
        const answer = await get(routes, `/auditLog?$term=${encodeURIComponent(term)}&$sort=_id`);
        expect({ term, status: answer.status }).toEqual({ term, status: 200 });
        expect({ term, ids: (answer.json() as { docs: AuditEntry[] }).docs.map((d) => d._id) }).toEqual({ term, ids });
      }
      const long = await get(routes, `/auditLog?$term=${'a'.repeat(257)}`);
      expect(long.status).toBe(400);
      expect(long.json()).toMatchObject({ parameter: '$term' });
      // 256 characters of the nastiest pattern text answer like any other literal.
      const worst = await get(routes, `/auditLog?$term=${encodeURIComponent('(a+)+'.repeat(51).slice(0, 256))}`);
      expect(worst.status).toBe(200);
    });

    test('$limit, $skip and $page out of range are 400, naming the parameter', async () => {
      const cases: Array<[string, string]> = [
        ['$limit=0', '$limit'],
        ['$limit=1001', '$limit'],
        ['$limit=-1', '$limit'],
        ['$limit=1.5', '$limit'],
        ['$limit=1e3', '$limit'],
        ['$limit=99999999999999999999', '$limit'],
        ['$limit=', '$limit'],
        ['$skip=-1', '$skip'],
        ['$skip=1000001', '$skip'],
        ['$skip=x', '$skip'],
        ['$page=0', '$page'],
        ['$page=-1', '$page'],
        ['$page=1.5', '$page'],
        ['$page=50002', '$page'],
        ['$limit=1&$page=1000002', '$page'],
      ];
      for (const [query, parameter] of cases) {
        const answer = await get(routes, `/auditLog?${query}`);
        expect({ query, status: answer.status, parameter: (answer.json() as { parameter?: string }).parameter }).toEqual({ query, status: 400, parameter });
      }
      for (const query of ['$limit=1000', '$skip=1000000', '$page=50001', '$limit=1&$page=1000001']) {
        expect({ query, status: (await get(routes, `/auditLog?${query}`)).status }).toEqual({ query, status: 200 });
      }
    });
  });
});

/* ------------------------------------------------------------------------------------------ */
/* Every error path: the right status, the security headers, no audit data                   */
/* ------------------------------------------------------------------------------------------ */

describe('error answers of the audit routes', () => {
  let store: AuditStore;
  let t: TestApp;
  let seeded: AuditEntry;
  let failFinds = false;

  let bare: express.Express;

  beforeAll(async () => {
    store = memoryStore();
    const find = store.find.bind(store);
    store.find = (query) => (failFinds ? Promise.reject(new Error(`store down (${MARKERS[0]})`)) : find(query));
    t = createTestApp({ store, scope: ['admin', 'auditor', '+audit:read', '!suspended'] });
    await t.audit.flush();
    seeded = seedEntry({});
    await store.insertMany([seedEntry({}), seeded]);
    // Without a body parser of its own in front, the manual-entry route parses (and refuses) bodies itself.
    bare = express();
    bare.use(expressjwt({ secret: SECRET, algorithms: ['HS256'], credentialsRequired: false }));
    bare.use(t.audit);
  });
  afterAll(() => t.audit.close());

  const good = token({ sub: 'reader', scope: 'auditor audit:read' });
  const cases: Array<{ name: string; status: number; make: () => request.Test; ours?: boolean }> = [
    { name: 'no token', status: 401, make: () => request(t.app).get('/auditLog') },
    { name: 'no token, one entry', status: 401, make: () => request(t.app).get(`/auditLog/${seeded._id}`) },
    { name: 'no token, history', status: 401, make: () => request(t.app).get('/auditLog/history/role/d1') },
    { name: 'no token, manual entry', status: 401, make: () => request(t.app).post('/auditLog').send({ action: 'X' }) },
    {
      name: "a bad signature (the app's auth rejects it)",
      status: 401,
      ours: false,
      make: () =>
        request(t.app)
          .get('/auditLog')
          .set('Authorization', `Bearer ${good.slice(0, -4)}AAAA`),
    },
    {
      name: "an expired token (the app's auth rejects it)",
      status: 401,
      ours: false,
      make: () =>
        request(t.app)
          .get('/auditLog')
          .set('Authorization', `Bearer ${token({ sub: 'a', scope: 'auditor audit:read' }, { expiresIn: -60 })}`),
    },
    {
      name: 'the wrong scope',
      status: 403,
      make: () =>
        request(t.app)
          .get('/auditLog')
          .set('Authorization', `Bearer ${token({ sub: 'a', scope: 'user' })}`),
    },
    {
      name: "a forbidden '!' scope",
      status: 403,
      make: () =>
        request(t.app)
          .get(`/auditLog/${seeded._id}`)
          .set('Authorization', `Bearer ${token({ sub: 'a', scope: ['auditor', 'audit:read', 'suspended'] })}`),
    },
    {
      name: "a missing '+' scope",
      status: 403,
      make: () =>
        request(t.app)
          .get('/auditLog/history/role/d1')
          .set('Authorization', `Bearer ${token({ sub: 'a', scope: 'admin' })}`),
    },
    {
      name: 'a scope claim that is an object',
      status: 403,
      make: () =>
        request(t.app)
          .get('/auditLog')
          .set('Authorization', `Bearer ${token({ sub: 'a', scope: { admin: true } })}`),
    },
    {
      name: 'a scope claim array with non-strings',
      status: 403,
      make: () =>
        request(t.app)
          .get('/auditLog')
          .set('Authorization', `Bearer ${token({ sub: 'a', scope: [1, null, ['admin']] })}`),
    },
    { name: 'a bad parameter', status: 400, make: () => request(t.app).get('/auditLog?user[$ne]=x').set('Authorization', `Bearer ${good}`) },
    { name: 'a malformed id', status: 400, make: () => request(t.app).get('/auditLog/not-an-id').set('Authorization', `Bearer ${good}`) },
    { name: 'an unknown id', status: 404, make: () => request(t.app).get(`/auditLog/${new ObjectId().toHexString()}`).set('Authorization', `Bearer ${good}`) },
    { name: 'an unknown route', status: 404, make: () => request(t.app).get(`/auditLog/${seeded._id}/more`).set('Authorization', `Bearer ${good}`) },
    {
      name: 'changing an entry',
      status: 405,
      make: () => request(t.app).put(`/auditLog/${seeded._id}`).set('Authorization', `Bearer ${good}`).send({ notes: 'x' }),
    },
    { name: 'deleting the log', status: 405, make: () => request(t.app).delete('/auditLog').set('Authorization', `Bearer ${good}`) },
    {
      name: 'a manual entry that is not JSON',
      status: 415,
      make: () => request(t.app).post('/auditLog').set('Authorization', `Bearer ${good}`).set('Content-Type', 'text/plain').send('action=X'),
    },
    {
      name: 'a manual entry that is not valid JSON',
      status: 400,
      make: () => request(bare).post('/auditLog').set('Authorization', `Bearer ${good}`).set('Content-Type', 'application/json').send('{"action":'),
    },
    {
      name: 'a manual entry over 1 MB',
      status: 413,
      make: () =>
        request(bare)
          .post('/auditLog')
          .set('Authorization', `Bearer ${good}`)
          .send({ action: 'X', notes: 'n'.repeat(1_100_000) }),
    },
    {
      name: 'a manual entry with server fields',
      status: 400,
      make: () => request(t.app).post('/auditLog').set('Authorization', `Bearer ${good}`).send({ action: 'X', _id: seeded._id }),
    },
  ];

  test.each(cases)('$name → $status, with no audit data in the body', async ({ status, make, ours }) => {
    const res = await make();
    expect(res.status).toBe(status);
    expect(containsMarker(res.text)).toBe(false);
    expect(res.body).toEqual(expect.objectContaining({ message: expect.any(String) }));
    if (ours !== false) {
      expect(res.body).toEqual({
        statusCode: status,
        error: expect.any(String),
        message: expect.any(String),
        ...(res.body.parameter !== undefined && { parameter: expect.any(String) }),
      });
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
    }
  });

  test('a store that fails while answering: 503, no audit data, the failure reported through the error event', async () => {
    const reported: Error[] = [];
    t.audit.on('error', (error) => reported.push(error));
    failFinds = true;
    try {
      const res = await request(t.app).get('/auditLog').set('Authorization', `Bearer ${good}`);
      expect(res.status).toBe(503);
      expect(res.body).toEqual({ statusCode: 503, error: 'Service Unavailable', message: expect.any(String) });
      expect(containsMarker(res.text)).toBe(false);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(reported).toHaveLength(1);
    } finally {
      failFinds = false;
    }
  });

  test('successful answers carry the same headers', async () => {
    for (const path of ['/auditLog', `/auditLog/${seeded._id}`, '/auditLog/history/role/d1', '/auditLog?$count=true']) {
      const res = await request(t.app).get(path).set('Authorization', `Bearer ${good}`).expect(200);
      expect({ path, cache: res.headers['cache-control'], sniff: res.headers['x-content-type-options'] }).toEqual({
        path,
        cache: 'no-store',
        sniff: 'nosniff',
      });
    }
  });
});

/* ------------------------------------------------------------------------------------------ */
/* Secrets never reach the store                                                              */
/* ------------------------------------------------------------------------------------------ */

describe.each(kinds)('secrets never reach the %s store', (kind) => {
  test('a password in the body (nested, in arrays), the result, an error, route params, the query string and the headers is never stored', async () => {
    const opened = await openStore(kind);
    const audit = auditLog({ store: opened.store, scope: 'admin', redact: ['password', 'token', 'secret', 'authorization', 'cookie', 'apikey', 'ssn'] });
    const app = express();
    app.use(express.json());
    app.use(expressjwt({ secret: SECRET, algorithms: ['HS256'], credentialsRequired: false }));
    app.use(audit);
    app.post('/users/:id/password/:resetToken', (req, res) => {
      res.status(201).json({
        id: req.params.id,
        changed: true,
        echo: req.body,
        query: req.query,
        headers: { authorization: req.headers.authorization, cookie: req.headers.cookie },
      });
    });
    app.post('/login', (req, res) => {
      res.status(401).json({ message: 'wrong password', tried: { password: req.body.password } });
    });
    const PASSWORD = 'hunter2-never-stored';
    const BEARER = token({ sub: 'u-1', scope: 'user', password: PASSWORD });
    try {
      await request(app)
        .post(`/users/u-1/password/reset?password=${PASSWORD}&token=${PASSWORD}&next=%2Fhome`)
        .set('Authorization', `Bearer ${BEARER}`)
        .set('Cookie', `session=${PASSWORD}`)
        .set('X-Api-Key', PASSWORD)
        .send({ password: PASSWORD, profile: { newPassword: PASSWORD, history: [{ password: PASSWORD }, [{ PASSWORD }]] }, ssn: PASSWORD, secrets: [PASSWORD] })
        .expect(201);
      await request(app).post('/login').send({ user: 'u-1', password: PASSWORD }).expect(401);
      await request(app)
        .post('/auditLog')
        .set('Authorization', `Bearer ${ADMIN}`)
        .send({ action: 'Reset', payload: { password: PASSWORD }, result: { token: PASSWORD } })
        .expect(201);
      // Route params named like a secret are redacted too.
      const reset = express();
      reset.use(express.json());
      reset.use(audit);
      reset.post('/reset/:token', (_req, res) => {
        res.status(201).json({ ok: true });
      });
      await request(reset).post(`/reset/${PASSWORD}?x=1`).expect(201);
      await settle(audit, 3);
      await audit.flush();

      const stored = (await opened.store.find({ filter: {}, sort: [['date', 1]], skip: 0, limit: 100, select: null })).docs;
      expect(stored.length).toBeGreaterThanOrEqual(3);
      // Not anywhere: a secret in a path segment (a route param named like a secret) is redacted in
      // params, in the endpoint and in documents.
      expect(stored.filter((entry) => JSON.stringify(entry).includes(PASSWORD))).toEqual([]);
      const resetEntry = stored.find((entry) => entry.endpoint?.startsWith('/reset/'));
      expect(resetEntry).toMatchObject({ endpoint: '/reset/[REDACTED]', params: { token: '[REDACTED]' } });
      expect(resetEntry!.documents ?? []).not.toContain(PASSWORD);
      const [changed, login, manual] = stored;
      expect(changed!.endpoint).toBe('/users/u-1/password/[REDACTED]'); // no query string; :resetToken is a secret param
      expect(changed!.payload).toEqual({
        password: '[REDACTED]',
        profile: { newPassword: '[REDACTED]', history: [{ password: '[REDACTED]' }, [{ PASSWORD: '[REDACTED]' }]] },
        ssn: '[REDACTED]',
        secrets: '[REDACTED]',
      });
      expect(changed!.result).toMatchObject({
        query: { password: '[REDACTED]', token: '[REDACTED]', next: '/home' },
        headers: { authorization: '[REDACTED]', cookie: '[REDACTED]' },
      });
      expect(login).toMatchObject({ statusCode: 401, result: null, responseMessage: 'wrong password' });
      expect(manual).toMatchObject({ action: 'Reset', payload: { password: '[REDACTED]' }, result: { token: '[REDACTED]' } });
    } finally {
      await audit.close();
      await opened.cleanup();
    }
  });
});
