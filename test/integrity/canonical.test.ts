/**
 * The canonical form an entry's hash covers: one definition, the same bytes from whatever a
 * store gives back. The property runs what the capture produces through every store and back.
 */
import fc from 'fast-check';
import { auditLog, type AuditEntry, type AuditLogMiddleware } from 'express-audit-log';
import { decodeKeys } from '../../src/capture/keys';
import { canonicalEntry, hashEntry } from '../../src/integrity/canonical';
import { openStore, STORE_KINDS, type OpenedStore, type StoreKind } from '../support/stores';
import { fuzzRuns } from '../support/fast-check';

describe('the canonical form', () => {
  test('sorted keys, null and absent alike, Dates as their ISO string, no hash; compact JSON', () => {
    const entry = {
      _id: 'ab',
      date: new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 6)),
      user: null,
      notes: undefined,
      action: 'Create',
      payload: { b: 1, a: [null, undefined, 1.5], c: null },
      hash: 'ignored',
    };
    expect(canonicalEntry(entry)).toBe('{"_id":"ab","action":"Create","date":"2026-01-02T03:04:05.006Z","payload":{"a":[null,null,1.5],"b":1}}');
    expect(hashEntry(entry)).toBe(hashEntry({ ...entry, date: '2026-01-02T03:04:05.006Z', user: undefined, payload: { a: [null, null, 1.5], b: 1 } }));
  });

  test("stored keys are decoded in payload, params and result (as the routes show them); other fields' keys are not", () => {
    const stored = { _id: 'x', payload: { '%24set': { 'a%2Eb': 1 } }, params: { '%2E': 2 }, result: { '%5F_proto__': 3 }, changes: [{ 'k%2E': 1 }] };
    const shown = { _id: 'x', payload: { $set: { 'a.b': 1 } }, params: { '.': 2 }, result: JSON.parse('{"__proto__":3}'), changes: [{ 'k%2E': 1 }] };
    expect(canonicalEntry(stored)).toBe('{"_id":"x","changes":[{"k%2E":1}],"params":{".":2},"payload":{"$set":{"a.b":1}},"result":{"__proto__":3}}');
    expect(canonicalEntry(shown, true)).toBe(canonicalEntry(stored));
  });

  test('numbers as JSON writes them (1.0 is 1, -0 is 0, NaN and Infinity are null); lone surrogates as U+FFFD, as UTF-8 stores them', () => {
    expect(canonicalEntry({ a: 1.0, b: -0, c: Number.NaN, d: [Number.POSITIVE_INFINITY], e: 2 ** 60, f: 1e21 })).toBe(
      '{"a":1,"b":0,"d":[null],"e":1152921504606847000,"f":1e+21}',
    );
    expect(canonicalEntry({ s: 'a\uD800b', t: '\uDC00', u: '😀', ['k\uD800']: 1 })).toBe(`{"k\uFFFD":1,"s":"a\uFFFDb","t":"\uFFFD","u":"😀"}`);
    expect(canonicalEntry({ s: 'a\uD800b' })).toBe(canonicalEntry({ s: 'a\uFFFDb' }));
  });
});

test('regression (found by the property on MongoDB): two keys that become one U+FFFD key keep the later value, as BSON and JSON readers do', () => {
  expect(canonicalEntry({ extra: { '\ud800': { a: 1 }, '\ud801': {} } })).toBe('{"extra":{"\uFFFD":{}}}');
  expect(canonicalEntry({ extra: { '\ud800': { a: 1 }, '\ud801': null } })).toBe('{"extra":{}}');
});

// What record() accepts, as an app would pass it: JSON shapes with Dates, keys MongoDB refuses, big and odd numbers, any text.
/** Any UTF-16 code units, lone surrogates included (fast-check's own string units are all well-formed). */
const codeUnits = fc
  .array(fc.oneof(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0xd800, max: 0xdfff })), { maxLength: 8 })
  .map((units) => String.fromCharCode(...units));
const key = fc.oneof(
  fc.string({ maxLength: 6 }),
  fc.constantFrom('$set', 'a.b', '$', '.', '%', '%2E', '__proto__', 'constructor', 'x\u0000y', 'ключ', '🔑', ''),
);
const leaf = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 8 }),
  codeUnits,
  fc.double(),
  fc.integer(),
  fc.constantFrom(Number.MAX_SAFE_INTEGER, 2 ** 53 + 2, -(2 ** 63), 1e21, 5e-324, -0, 1.0, 0.1),
  fc.boolean(),
  fc.constant(null),
  fc.date({ noInvalidDate: true, min: new Date(-1e14), max: new Date(1e14) }),
);
const { value } = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', maxDepth: 4 }, leaf, fc.array(tie('value'), { maxLength: 4 }), fc.dictionary(key, tie('value'), { maxKeys: 4 })),
}));
// What a `transform` may add, never sanitized: lone surrogates, undefined members and elements, nested Dates (keys every store accepts).
const rawKey = codeUnits.filter((k) => !k.includes('.') && !k.startsWith('$') && !k.includes('\u0000') && k !== '__proto__');
const { raw } = fc.letrec((tie) => ({
  raw: fc.oneof(
    { depthSize: 'small', maxDepth: 3 },
    leaf,
    fc.constant(undefined),
    fc.array(tie('raw'), { maxLength: 3 }),
    fc.dictionary(rawKey, tie('raw'), { maxKeys: 3 }),
  ),
}));

/** The entry as the routes and the NDJSON export show it: keys decoded, then JSON (Dates become ISO strings). */
function exported(doc: AuditEntry): Record<string, unknown> {
  const shown: Record<string, unknown> = { ...doc };
  for (const field of ['payload', 'params', 'result'] as const) if (shown[field] != null) shown[field] = decodeKeys(shown[field]);
  return JSON.parse(JSON.stringify(shown));
}

describe.each(STORE_KINDS)('a round trip through the %s store', (kind: StoreKind) => {
  let opened: OpenedStore;
  let audit: AuditLogMiddleware;

  let extra: unknown;

  beforeAll(async () => {
    opened = await openStore(kind);
    audit = auditLog({ store: opened.store, integrity: true, transform: (entry) => (extra === undefined ? entry : Object.assign(entry, { extra })) });
  });
  afterAll(async () => {
    await audit.close();
    await opened.cleanup();
  });

  test('property: every entry the capture makes (and what a transform adds) hashes the same read back, and as exported, as when it was written', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ payload: value, result: value, notes: fc.string({ unit: 'binary', maxLength: 12 }), extra: raw }), { minLength: 1, maxLength: 3 }),
        async (events) => {
          const ids = events.map(({ extra: added, ...event }) => {
            extra = added;
            return audit.record(null, { action: 'Property', ...event })!;
          });
          extra = undefined;
          await audit.flush();
          const { docs } = await opened.store.find({ filter: { _id: { $in: ids } }, sort: [['seq', 1]], skip: 0, limit: ids.length, select: null });
          expect(docs).toHaveLength(ids.length);
          for (const doc of docs as AuditEntry[]) {
            expect({ id: doc._id, hash: hashEntry(doc) }).toEqual({ id: doc._id, hash: doc.hash });
            expect({ id: doc._id, exported: hashEntry(exported(doc), true) }).toEqual({ id: doc._id, exported: doc.hash });
          }
        },
      ),
      { numRuns: fuzzRuns(kind === 'mongo' ? 40 : 60) },
    );
  });
});
