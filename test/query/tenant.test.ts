/** The one tenant rule every route (and every future adapter) calls: who reads what. */
import { parseOptions } from '../../src/options';
import { entryVisible, restrictFilter, tenantAccess } from '../../src/query/tenant';

const tenants = parseOptions({ getTenant: () => null, tenantScope: ['auditor', '!suspended'] }, {}).tenants;

describe('tenantAccess', () => {
  test('without tenants configured, everyone reads everything and nothing is filtered', () => {
    expect(tenantAccess({ tenant: null, scopes: null }, null)).toEqual({ allowed: true, crossTenant: true, filter: null, tenant: null });
  });

  test('a caller with a tenant reads its tenant only; ids are strings as stored (numbers included)', () => {
    expect(tenantAccess({ tenant: 'acme', scopes: ['admin'] }, tenants)).toEqual({
      allowed: true,
      crossTenant: false,
      filter: { tenant: 'acme' },
      tenant: 'acme',
    });
    expect(tenantAccess({ tenant: 42, scopes: [] }, tenants)).toMatchObject({ filter: { tenant: '42' } });
  });

  test('tenantScope reads across tenants, following the scope rule; an unauthenticated caller never does', () => {
    expect(tenantAccess({ tenant: 'acme', scopes: ['auditor'] }, tenants)).toMatchObject({ allowed: true, crossTenant: true, filter: null });
    expect(tenantAccess({ tenant: 'acme', scopes: ['auditor', 'suspended'] }, tenants)).toMatchObject({ crossTenant: false, filter: { tenant: 'acme' } });
    const onlyForbidden = parseOptions({ getTenant: () => null, tenantScope: '!guest' }, {}).tenants;
    expect(tenantAccess({ tenant: null, scopes: null }, onlyForbidden)).toMatchObject({ allowed: false });
  });

  test('no tenant (or one that is not an id) and no tenantScope: denied, with a reason that names the way out', () => {
    for (const tenant of [null, undefined, '', {}, 'x'.repeat(257)]) {
      const access = tenantAccess({ tenant, scopes: ['admin'] }, tenants);
      expect(access).toMatchObject({ allowed: false, message: expect.stringMatching(/getTenant\(req\) returned none.*one of \[auditor\]/) });
    }
  });

  test("restrictFilter wraps the route's filter; entryVisible hides other tenants' entries", () => {
    const access = tenantAccess({ tenant: 'acme', scopes: [] }, tenants);
    if (!access.allowed) throw new Error('expected access');
    expect(restrictFilter({}, access)).toEqual({ tenant: 'acme' });
    expect(restrictFilter({ $or: [{ tenant: 'globex' }] }, access)).toEqual({ $and: [{ tenant: 'acme' }, { $or: [{ tenant: 'globex' }] }] });
    expect(entryVisible({ tenant: 'acme' }, access)).toBe(true);
    expect(entryVisible({ tenant: 'globex' }, access)).toBe(false);
    expect(entryVisible({ tenant: null }, access)).toBe(false);
    expect(entryVisible({}, access)).toBe(false);
  });
});
