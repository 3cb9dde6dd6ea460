import { describeRequest, type RequestFacts } from '../../src/capture/describe';

const facts = (overrides: Partial<RequestFacts>): RequestFacts => ({
  method: 'POST',
  path: '/',
  payload: null,
  result: null,
  isError: false,
  associations: new Map(),
  ...overrides,
});

describe('describeRequest', () => {
  test.each([
    ['POST', '/user', 'Create'],
    ['PUT', '/user/1', 'Update'],
    ['PATCH', '/user/1', 'Update'],
    ['DELETE', '/user/1', 'Delete'],
  ])('%s %s → %s', (method, path, action) => {
    expect(describeRequest(facts({ method, path })).action).toBe(action);
  });

  test('create documents come from the result, bulk too, and not on error', () => {
    expect(describeRequest(facts({ path: '/user', result: { _id: 'a' } })).documents).toEqual(['a']);
    expect(describeRequest(facts({ path: '/user', result: [{ id: 1 }, { _id: 'b' }] })).documents).toEqual(['1', 'b']);
    expect(describeRequest(facts({ path: '/user', result: { _id: 'a' }, isError: true })).documents).toBeNull();
  });

  test('delete many takes payload ids in every rest-hapi form', () => {
    expect(describeRequest(facts({ method: 'DELETE', path: '/user', payload: ['a', 'b'] })).documents).toEqual(['a', 'b']);
    expect(describeRequest(facts({ method: 'DELETE', path: '/user', payload: [{ _id: 'a', hardDelete: true }] })).documents).toEqual(['a']);
    expect(describeRequest(facts({ method: 'DELETE', path: '/user', payload: [] })).documents).toBeNull();
  });

  test('association paths: Add/Remove, owner first, child ids from path or payload', () => {
    const associations = new Map([['role.people', 'ONE_MANY' as const]]);
    expect(describeRequest(facts({ method: 'PUT', path: '/role/r1/people/p1', associations }))).toEqual({
      action: 'Add',
      collectionName: 'role',
      childCollectionName: 'people',
      associationType: 'ONE_MANY',
      documents: ['r1', 'p1'],
    });
    expect(describeRequest(facts({ method: 'DELETE', path: '/role/r1/people', payload: [{ childId: 'p2' }, 'p3'], associations }))).toMatchObject({
      action: 'Remove',
      documents: ['r1', 'p2', 'p3'],
    });
    expect(describeRequest(facts({ method: 'POST', path: '/a/1/b', inferAssociation: () => 'MANY_MANY' })).associationType).toBe('MANY_MANY');
  });

  test('path segments are URL-decoded; malformed escapes are kept as sent', () => {
    expect(describeRequest(facts({ method: 'PUT', path: '/user/auth0%7C123' })).documents).toEqual(['auth0|123']);
    expect(describeRequest(facts({ method: 'PUT', path: '/user/%E0%A4%A' })).documents).toEqual(['%E0%A4%A']);
  });
});
