/**
 * What an entry keeps of a client address (the `ipAddress` option): all of it, its network
 * (IPv4 /24, IPv6 /48: enough to tell a country or a provider, not a household), a keyed hash
 * (HMAC-SHA256: equal addresses still group, and without the key nobody can try every address,
 * which an unkeyed hash of the 2^32 IPv4 addresses would allow), or nothing. Framework-free:
 * it gets the address `clientIp` made (IPv4-mapped IPv6 already turned into IPv4).
 */
import { createHmac } from 'crypto';
import { isIP } from 'net';
import type { IpPolicy } from '../options';

/** Hex characters of the HMAC kept: 128 bits, far past any collision among real addresses. */
const HASH_HEX = 32;

/** The eight 16-bit groups of an IPv6 address (valid, zone removed), an embedded IPv4 tail included. */
function ipv6Groups(address: string): number[] {
  let text = address;
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const missing = 8 - left.length - right.length;
  return [...left, ...Array<string>(tail === undefined ? 0 : missing).fill('0'), ...right].map((group) => Number.parseInt(group, 16));
}

/**
 * An address as IPv4 text or IPv6 groups; null when it is not one. An IPv4-mapped IPv6 address in
 * any spelling (`::ffff:1.2.3.4`, `::ffff:102:304`) is the IPv4 address, as `clientIp` makes the
 * usual one: one client, one stored value. A zone (`fe80::1%eth0`) names an interface of this host: dropped.
 */
function parseIp(address: string): { v4: string } | { v6: number[] } | null {
  const bare = address.replace(/%.*$/, '');
  const family = isIP(bare);
  if (family === 4) return { v4: bare };
  if (family !== 6) return null;
  const groups = ipv6Groups(bare);
  if (groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff) {
    const [high = 0, low = 0] = groups.slice(6);
    return { v4: `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}` };
  }
  return { v6: groups };
}

/** The address with host bits zeroed (IPv4: last octet; IPv6: all but the first 48 bits), in canonical text (RFC 5952). Null when it is not an IP address. */
export function truncateIp(address: string): string | null {
  const ip = parseIp(address);
  if (ip === null) return null;
  if ('v4' in ip) return ip.v4.replace(/\.\d+$/, '.0');
  // The five zero groups at the end are the longest zero run, so they (with any zero groups just
  // before them) are the ones `::` stands for. Written by hand: net.SocketAddress costs ~10 µs.
  const kept = ip.v6.slice(0, 3);
  while (kept.length > 0 && kept[kept.length - 1] === 0) kept.pop();
  return `${kept.map((group) => group.toString(16)).join(':')}::`;
}

/**
 * What is hashed: the 16 bytes of an IPv6 address (so every spelling of it, `2001:DB8:0::1` or
 * `2001:db8::1`, hashes alike), the text of an IPv4 one (dotted decimal has one spelling), and
 * anything else as it is.
 */
function hashInput(address: string): string | Buffer {
  const ip = parseIp(address);
  if (ip === null) return address;
  if ('v4' in ip) return ip.v4;
  const bytes = Buffer.alloc(16);
  ip.v6.forEach((group, i) => bytes.writeUInt16BE(group, i * 2));
  return bytes;
}

/**
 * Applies the policy to an address. `full` keeps it; `truncated` keeps its network (a value that
 * is not an IP address, from a custom `trust proxy` function, becomes null rather than kept whole);
 * `hashed` keeps `hmac:` and 32 hex characters; `none` keeps nothing.
 */
export function protectIp(address: string | null, policy: IpPolicy): string | null {
  if (address === null || policy.mode === 'full') return address;
  switch (policy.mode) {
    case 'none':
      return null;
    case 'truncated':
      return truncateIp(address);
    case 'hashed':
      return `hmac:${createHmac('sha256', policy.key!).update(hashInput(address)).digest('hex').slice(0, HASH_HEX)}`;
  }
}
