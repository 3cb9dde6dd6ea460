import fc from 'fast-check';
import { sanitize, sanitizeParsedJson, type SanitizeLimits } from '../../src/capture/sanitize';
import { secretKeyMatcher, DEFAULT_REDACT_KEYS } from '../../src/capture/redact';
import { decodeKey, decodeKeys, encodeKey } from '../../src/capture/keys';
import { ObjectId } from 'bson';
import { fuzzRuns } from '../support/fast-check';

const limits: SanitizeLimits = { maxDepth: 5, maxBytes: 10_000, isSecret: secretKeyMatcher(new Set(DEFAULT_REDACT_KEYS)) };

describe('sanitize', () => {
  test('returns a fresh copy: later mutation of the original does not change it', () => {
    const input = { a: { b: [1, 2] } };
    const { value } = sanitize(input, limits);
    input.a.b.push(3);
    expect(value).toEqual({ a: { b: [1, 2] } });
  });

  test('exotic values become storable ones or readable markers', () => {
    const circular: Record<string, unknown> = { name: 'loop' };
    circular.self = circular;
    const id = new ObjectId();
    const { value } = sanitize(
      {
        buf: Buffer.from('abc'),
        big: 10n ** 20n,
        when: new Date('2026-01-01T00:00:00Z'),
        bad: new Date('nope'),
        id,
        map: new Map([['k', 1]]),
        set: new Set([1, 2]),
        circular,
        fn: () => 1,
        sym: Symbol('s'),
        undef: undefined,
        nan: NaN,
        list: [undefined, () => 1],
        err: new Error('oops'),
        lone: 'a\uD800b',
      },
      limits,
    );
    expect(value).toEqual({
      buf: '[Binary: 3 bytes]',
      big: '100000000000000000000',
      when: new Date('2026-01-01T00:00:00Z'),
      bad: null,
      id: id.toHexString(),
      map: { k: 1 },
      set: [1, 2],
      circular: { name: 'loop', self: '[Circular]' },
      nan: null,
      list: [null, null],
      err: { name: 'Error', message: 'oops' },
      lone: 'a\uFFFDb',
    });
  });

  test('shared (non-circular) references are kept, not marked circular', () => {
    const shared = { x: 1 };
    expect(sanitize({ a: shared, b: shared }, limits).value).toEqual({ a: { x: 1 }, b: { x: 1 } });
  });

  test('nesting deeper than maxDepth becomes a marker', () => {
    const deep = { a: { b: { c: { d: { e: { f: 1 } } } } } };
    expect(sanitize(deep, limits).value).toEqual({ a: { b: { c: { d: { e: '[Truncated: nested deeper than 5]' } } } } });
  });

  test('over maxBytes the whole value becomes a marker, without walking it all', () => {
    const result = sanitize({ s: 'x'.repeat(20_000) }, limits);
    expect(result).toMatchObject({ truncated: true, value: '[Truncated: more than 10000 bytes]' });
    expect(sanitize({}, limits, 50_000)).toMatchObject({ truncated: true, value: '[Truncated: 50000 bytes > 10000 bytes]' });
  });

  test('__proto__ and constructor keys are data, never prototype changes', () => {
    const input = JSON.parse('{"__proto__": {"polluted": true}, "constructor": {"prototype": {"x": 1}}}');
    const { value } = sanitize(input, limits) as { value: Record<string, unknown> };
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    // Stored encoded (the embedded store would turn a '__proto__' key into a prototype); answers decode it.
    expect(Object.keys(value)).toEqual(['%5F_proto__', 'constructor']);
    expect((decodeKeys(value) as Record<string, unknown>)['__proto__']).toEqual({ polluted: true });
  });

  test('a throwing getter does not throw out of sanitize', () => {
    const hostile = {
      get boom() {
        throw new Error('getter');
      },
    };
    expect(sanitize(hostile, limits).value).toBe('[Unserializable]');
  });
});

describe('redaction keys', () => {
  const isSecret = secretKeyMatcher(new Set(DEFAULT_REDACT_KEYS));
  test.each(['password', 'newPassword', 'PASSWORD', 'client_secret', 'x-api-key', 'refreshToken', 'Authorization', 'cookie', 'sessionId', 'cardNumber'])(
    '%s is secret',
    (key) => {
      expect(isSecret(key)).toBe(true);
    },
  );
  test.each(['name', 'email', 'className', 'description', 'id'])('%s is not', (key) => {
    expect(isSecret(key)).toBe(false);
  });
});

describe('key encoding', () => {
  test.each(['a.b', '$set', '%', '%2E', '$a.b%c', 'plain', '', '.', '$'])('%p round-trips and is storable', (key) => {
    const encoded = encodeKey(key);
    expect(decodeKey(encoded)).toBe(key);
    expect(encoded.startsWith('$')).toBe(false);
    expect(encoded.includes('.')).toBe(false);
  });
  test('decodeKeys walks nested values', () => {
    expect(decodeKeys({ 'a%2Eb': [{ '%24x': 1 }] })).toEqual({ 'a.b': [{ $x: 1 }] });
  });
});

describe('sanitizeParsedJson (a response body the package parsed itself)', () => {
  test('cleans in place: the parsed object itself is returned, redacted, keys encoded in order', () => {
    const parsed = JSON.parse('{"user":{"password":"p","name":"n"},"list":[{"token":"t"}]}');
    const { value, bytes, truncated } = sanitizeParsedJson(parsed, limits, 123);
    expect(value).toBe(parsed);
    expect(value).toEqual({ user: { password: '[REDACTED]', name: 'n' }, list: [{ token: '[REDACTED]' }] });
    const encoded = sanitizeParsedJson(JSON.parse('{"first":0,"a.b":1,"$set":{"x":2},"last":3}'), limits, 10).value;
    expect(JSON.stringify(encoded)).toBe('{"first":0,"a%2Eb":1,"%24set":{"x":2},"last":3}');
    expect({ bytes, truncated }).toEqual({ bytes: 123, truncated: false });
  });

  test('a "__proto__" key in the JSON stays data and pollutes nothing', () => {
    const { value } = sanitizeParsedJson(JSON.parse('{"__proto__":{"polluted":true},"ok":1}'), limits, 10) as { value: Record<string, unknown> };
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(value['%5F_proto__']).toEqual({ polluted: true });
  });

  test('caps depth and repairs lone surrogates like sanitize()', () => {
    const { value } = sanitizeParsedJson(JSON.parse('{"a":{"b":{"c":{"d":{"e":{"f":1}}}}},"s":"\\ud800x"}'), limits, 10);
    expect(value).toEqual({ a: { b: { c: { d: { e: '[Truncated: nested deeper than 5]' } } } }, s: '\ufffdx' });
  });

  test('gives the same value as sanitize() for any JSON', () => {
    const keys = fc.oneof(fc.string(), fc.constantFrom('password', 'apiKey', '$x', 'a.b', '__proto__', '%', 'x\ud800'));
    const json = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        fc.string(),
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.boolean(),
        fc.constant(null),
        tie('list'),
        tie('object'),
      ),
      list: fc.array(tie('value'), { maxLength: 4 }),
      object: fc.dictionary(keys, tie('value'), { maxKeys: 4 }),
    })).value;
    fc.assert(
      fc.property(json, (input) => {
        const text = JSON.stringify(input);
        // Stringified, so key order counts too.
        expect(JSON.stringify(sanitizeParsedJson(JSON.parse(text), limits, text.length).value)).toBe(JSON.stringify(sanitize(JSON.parse(text), limits).value));
      }),
      { numRuns: fuzzRuns(300) },
    );
  });
});
