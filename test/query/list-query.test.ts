import { parseListQuery } from '../../src/query/list-query';
import { parseWhere } from '../../src/query/where';
import { scopeAllows } from '../../src/query/scope';
import { AuditLogQueryError } from 'express-audit-log';

const limits = { defaultLimit: 20, maxLimit: 1000 };

function refused(make: () => unknown): AuditLogQueryError {
  try {
    make();
  } catch (error) {
    expect(error).toBeInstanceOf(AuditLogQueryError);
    return error as AuditLogQueryError;
  }
  throw new Error('expected an AuditLogQueryError');
}

describe('parseListQuery', () => {
  test('defaults: newest first, limit 20, everything', () => {
    expect(parseListQuery({}, limits)).toEqual({ query: { filter: {}, sort: [['date', -1]], skip: 0, limit: 20, select: null }, countOnly: false, page: 1 });
  });

  test('typed filters and ranges combine with $and', () => {
    const now = Date.parse('2026-06-01T00:00:00Z');
    const { query } = parseListQuery({ statusCode: ['200', '201'], isError: 'false', from: '1h' }, limits, now);
    expect(query.filter).toEqual({ $and: [{ statusCode: { $in: [200, 201] } }, { isError: false }, { date: { $gte: new Date(now - 3600_000) } }] });
  });

  test('$term builds an escaped, case-insensitive pattern, never the raw text', () => {
    const { query } = parseListQuery({ $term: 'a.b*(c', $searchFields: 'user,notes' }, limits);
    const or = (query.filter as { $or: Array<Record<string, { $regex: RegExp }>> }).$or;
    expect(or.map((c) => Object.keys(c)[0])).toEqual(['user', 'notes']);
    const pattern = or[0]!.user!.$regex;
    expect(pattern.test('xA.B*(Cx')).toBe(true);
    expect(pattern.test('aXbbbc')).toBe(false);
  });

  test('$term with a NUL escapes it as \\x00: a BSON regular expression cannot hold a NUL byte (the driver refused it: a 503 on MongoDB)', () => {
    const { query } = parseListQuery({ $term: 'a\u0000b', $searchFields: 'notes' }, limits);
    const pattern = (query.filter as { $or: Array<{ notes: { $regex: RegExp } }> }).$or[0]!.notes.$regex;
    expect(pattern.source).toBe('a\\x00b');
    expect(pattern.source.includes('\u0000')).toBe(false);
    expect(pattern.test('xA\u0000Bx')).toBe(true);
    expect(pattern.test('ab')).toBe(false);
  });

  test('operator injection through field names or values is refused', () => {
    expect(refused(() => parseListQuery({ user: { $ne: 'x' } }, limits)).parameter).toBe('user');
    expect(refused(() => parseListQuery({ 'user[$ne]': 'x' }, limits)).parameter).toBe('user[$ne]');
    expect(refused(() => parseListQuery({ statusCode: '{"$gt":0}' }, limits)).parameter).toBe('statusCode');
    // A string value is a literal, even when it looks like an operator.
    expect(parseListQuery({ user: '{"$gt":""}' }, limits).query.filter).toEqual({ user: '{"$gt":""}' });
  });
});

describe('from / to', () => {
  test('a duration reaching before any Date is refused with 400, not passed to the store', () => {
    expect(refused(() => parseListQuery({ from: '999999999999y' }, limits)).parameter).toBe('from');
    expect(refused(() => parseListQuery({ to: '99999999999999d' }, limits)).message).toMatch(/reaches back further than any date/);
    expect(parseListQuery({ from: '7d' }, limits).query.filter).toEqual({ date: { $gte: expect.any(Date) } });
  });
});

describe('parseWhere', () => {
  test('coerces dates and keeps allowed operators', () => {
    expect(parseWhere('{"date":{"$gte":"2026-01-01"},"documents":{"$all":["a","b"]}}')).toEqual({
      date: { $gte: new Date('2026-01-01') },
      documents: { $all: ['a', 'b'] },
    });
  });
  test.each([
    '{"$where":"1"}',
    '{"a":{"$function":1}}',
    '{"user":{"$regex":"x"}}',
    '{"$expr":{}}',
    '{"user":{"$accumulator":{}}}',
    '[]',
    '"x"',
    '{"payload.$x":1}',
  ])('%s is refused', (text) => {
    expect(refused(() => parseWhere(text)).parameter).toBe('$where');
  });
  test('a date as milliseconds becomes a Date; one no Date can hold is refused, not passed to the store (found by the $where property test)', () => {
    expect(parseWhere('{"date":{"$lt":1767225600000}}')).toEqual({ date: { $lt: new Date(1767225600000) } });
    expect(refused(() => parseWhere('{"date":{"$nin":[8640000000000001]}}')).message).toMatch(
      /'date' holds a date; 8640000000000001 is not a time a date can hold/,
    );
    expect(refused(() => parseWhere('{"date":-8640000000000001}')).parameter).toBe('$where');
  });
  test('$size and $elemMatch on a field that holds one scalar are a 400 naming $where (mongoose refused to cast them: a 503 on MongoDB)', () => {
    for (const text of [
      '{"_id":{"$size":0}}',
      '{"user":{"$size":1}}',
      '{"date":{"$elemMatch":{"$gt":"2026-01-01"}}}',
      '{"statusCode":{"$not":{"$size":1}}}',
      '{"isError":{"$elemMatch":{"$eq":true}}}',
    ]) {
      const error = refused(() => parseWhere(text));
      expect({ text, parameter: error.parameter, message: error.message }).toEqual({
        text,
        parameter: '$where',
        message: expect.stringMatching(/applies to lists: documents, truncated, or paths into payload/),
      });
    }
    // Where a list can be, they stay.
    expect(parseWhere('{"documents":{"$size":0},"payload.tags":{"$elemMatch":{"$eq":"a"}},"truncated":{"$size":1}}')).toEqual({
      documents: { $size: 0 },
      'payload.tags': { $elemMatch: { $eq: 'a' } },
      truncated: { $size: 1 },
    });
  });
  test('depth and size are bounded', () => {
    let deep = '{"user":"x"}';
    for (let i = 0; i < 20; i++) deep = `{"$and":[${deep}]}`;
    expect(refused(() => parseWhere(deep)).message).toMatch(/deeper/);
    expect(refused(() => parseWhere(`{"user":"${'x'.repeat(9000)}"}`)).message).toMatch(/longer/);
  });
});

describe('scopeAllows (hapi semantics)', () => {
  const rule = { anyOf: ['a', 'b'], allOf: ['c'], noneOf: ['d'] };
  test.each([
    [['a', 'c'], true],
    [['b', 'c'], true],
    [['c'], false],
    [['a'], false],
    [['a', 'c', 'd'], false],
    [[], false],
  ])('%j → %p', (granted, allowed) => {
    expect(scopeAllows(rule, granted)).toBe(allowed);
  });
  test('an empty rule allows any authenticated caller', () => {
    expect(scopeAllows({ anyOf: [], allOf: [], noneOf: [] }, [])).toBe(true);
  });
});
