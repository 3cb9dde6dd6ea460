/** The memory store's packing of an entry's JSON fields into one text, and back. */
import fc from 'fast-check';
import { filterReadsBodies, packBodies, unpackBodies } from '../../src/stores/packed-bodies';

describe('packBodies / unpackBodies', () => {
  test('round-trip payload, params, result and changes, Dates at any depth included', () => {
    const at = new Date('2026-06-01T12:00:00.000Z');
    const entry = { _id: 'x', payload: { at, list: [at, { at }] }, params: { id: '1' }, result: null, changes: [{ path: 'due', from: at, to: null }] };
    const text = packBodies(entry);
    expect(text).not.toContain('"_id"'); // only the JSON fields
    const back = unpackBodies(text);
    expect(back).toEqual({ payload: entry.payload, params: entry.params, result: null, changes: entry.changes });
    expect((back.payload as { list: [Date] }).list[0]).toBeInstanceOf(Date);
  });

  test('an absent field stays absent; a "__proto__" key stays data', () => {
    const back = unpackBodies(packBodies({ payload: JSON.parse('{"__proto__":{"polluted":1}}'), params: null, result: 'text' }));
    expect(Object.keys(back).sort()).toEqual(['params', 'payload', 'result']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(back.payload)).toBe(Object.prototype);
    expect(Object.keys(back.payload as object)).toEqual(['__proto__']);
  });

  test('any JSON value with Dates comes back equal', () => {
    const value = fc.letrec((tie) => ({
      value: fc.oneof({ depthSize: 'small' }, fc.string(), fc.integer(), fc.boolean(), fc.constant(null), fc.date({ noInvalidDate: true }), tie('list'), tie('object')),
      list: fc.array(tie('value'), { maxLength: 4 }),
      // Keys as the pipeline stores them: never starting with '$' (capture/keys encodes it).
      object: fc.dictionary(fc.string().filter((key) => !key.startsWith('$') && key !== '__proto__'), tie('value'), { maxKeys: 4 }),
    })).value;
    fc.assert(fc.property(value, value, (payload, result) => {
      expect(unpackBodies(packBodies({ payload, result } as never))).toEqual({ payload, result });
    }), { numRuns: 300 });
  });
});

describe('filterReadsBodies', () => {
  test.each([
    [{ 'payload.user.name': 'ann' }, true],
    [{ result: null }, true],
    [{ $or: [{ statusCode: 500 }, { 'changes.path': 'due' }] }, true],
    [{ $and: [{ user: 'u' }, { $not: { 'params.id': '1' } }] }, true],
    [{ user: 'u', date: { $gte: new Date(0) } }, false],
    [{ payloadSize: 3 }, false],
    [{ $or: [{ user: 'a' }, { user: 'b' }] }, false],
  ])('%j → %p', (filter, expected) => {
    expect(filterReadsBodies(filter)).toBe(expected);
  });
});
