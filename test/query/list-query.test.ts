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

  test('operator injection through field names or values is refused', () => {
    expect(refused(() => parseListQuery({ user: { $ne: 'x' } }, limits)).parameter).toBe('user');
    expect(refused(() => parseListQuery({ 'user[$ne]': 'x' }, limits)).parameter).toBe('user[$ne]');
    expect(refused(() => parseListQuery({ statusCode: '{"$gt":0}' }, limits)).parameter).toBe('statusCode');
    // A string value is a literal, even when it looks like an operator.
    expect(parseListQuery({ user: '{"$gt":""}' }, limits).query.filter).toEqual({ user: '{"$gt":""}' });
  });
});

describe('parseWhere', () => {
  test('coerces dates and keeps allowed operators', () => {
    expect(parseWhere('{"date":{"$gte":"2026-01-01"},"documents":{"$all":["a","b"]}}')).toEqual({
      date: { $gte: new Date('2026-01-01') }, documents: { $all: ['a', 'b'] },
    });
  });
  test.each(['{"$where":"1"}', '{"a":{"$function":1}}', '{"user":{"$regex":"x"}}', '{"$expr":{}}', '{"user":{"$accumulator":{}}}', '[]', '"x"', '{"payload.$x":1}'])('%s is refused', (text) => {
    expect(refused(() => parseWhere(text)).parameter).toBe('$where');
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
    [['a', 'c'], true], [['b', 'c'], true], [['c'], false], [['a'], false], [['a', 'c', 'd'], false], [[], false],
  ])('%j → %p', (granted, allowed) => {
    expect(scopeAllows(rule, granted)).toBe(allowed);
  });
  test('an empty rule allows any authenticated caller', () => {
    expect(scopeAllows({ anyOf: [], allOf: [], noneOf: [] }, [])).toBe(true);
  });
});
