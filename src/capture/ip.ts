/**
 * The client address an entry records. A server listening on '::' (Node's default when no host
 * is given, on dual-stack hosts) sees IPv4 clients as IPv4-mapped IPv6 addresses
 * (`::ffff:203.0.113.9`); stored as such, a filter or a report on `203.0.113.9` misses them.
 * The mapped form becomes the plain IPv4 address; every other address is kept as given.
 * Framework-free: the adapter passes the address its framework trusts (Express: `req.ip`,
 * which the app's `trust proxy` setting decides), never a raw client header.
 */

const MAPPED_IPV4 = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;

/** `::ffff:1.2.3.4` → `1.2.3.4`; other addresses unchanged; absent or empty → null. */
export function clientIp(address: string | null | undefined): string | null {
  if (typeof address !== 'string' || address === '') return null;
  return MAPPED_IPV4.exec(address)?.[1] ?? address;
}
