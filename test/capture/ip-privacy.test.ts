import { protectIp, truncateIp } from '../../src/capture/ip-privacy';

const KEY = Buffer.from('a-secret-of-at-least-16-bytes');

describe('truncateIp', () => {
  test.each([
    ['203.0.113.9', '203.0.113.0'],
    ['10.0.0.255', '10.0.0.0'],
    ['2001:db8:abcd:12::1', '2001:db8:abcd::'],
    ['2001:DB8:ABCD:0012:0000:0000:0000:0001', '2001:db8:abcd::'],
    ['2001:db8::1', '2001:db8::'],
    ['::1', '::'],
    ['fe80::1%eth0', 'fe80::'],
    ['64:ff9b::1.2.3.4', '64:ff9b::'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1::'],
    ['::ffff:203.0.113.9', '203.0.113.0'],
    ['::ffff:cb00:7109', '203.0.113.0'],
  ])('%s → %s', (address, network) => {
    expect(truncateIp(address)).toBe(network);
  });

  test('a value that is not an address is not kept whole', () => {
    expect(truncateIp('not-an-ip')).toBeNull();
  });
});

describe('protectIp', () => {
  test('full keeps the address; none keeps nothing', () => {
    expect(protectIp('203.0.113.9', { mode: 'full', key: null })).toBe('203.0.113.9');
    expect(protectIp('203.0.113.9', { mode: 'none', key: null })).toBeNull();
    expect(protectIp(null, { mode: 'truncated', key: null })).toBeNull();
  });

  test('hashed: every spelling of one address gives one value, other addresses and other keys another', () => {
    const policy = { mode: 'hashed' as const, key: KEY };
    const one = protectIp('2001:db8::1', policy);
    expect(one).toMatch(/^hmac:[0-9a-f]{32}$/);
    expect(protectIp('2001:DB8:0:0::1', policy)).toBe(one);
    expect(protectIp('2001:db8::2', policy)).not.toBe(one);
    expect(protectIp('2001:db8::1', { mode: 'hashed', key: Buffer.from('another-secret-of-16-bytes') })).not.toBe(one);
    expect(protectIp('203.0.113.9', policy)).not.toContain('203');
    // An IPv4 client seen through an IPv4-mapped IPv6 address, in either spelling, is the same client.
    expect(protectIp('::ffff:203.0.113.9', policy)).toBe(protectIp('203.0.113.9', policy));
    expect(protectIp('::FFFF:CB00:7109', policy)).toBe(protectIp('203.0.113.9', policy));
  });
});
