/**
 * The signature of a delivery POST: HMAC-SHA256 over `<timestamp>.<body>`, sent as
 * `X-Audit-Signature: t=<unix seconds>,v1=<hex>`. The timestamp is inside what is signed, so a
 * receiver that checks it is recent refuses a captured request replayed later; the body is the
 * raw bytes, so a receiver must verify before it parses anything.
 */
import { createHmac, timingSafeEqual } from 'crypto';

export const SIGNATURE_HEADER = 'x-audit-signature';

/** Five minutes, as Stripe and Slack allow: clocks drift, retries take time. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

function hmac(secret: string, timestamp: number, body: string | Buffer): string {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex');
}

/** The header value for a body sent now (or at `timestamp`, unix seconds). */
export function signDelivery(secret: string, body: string | Buffer, timestamp = Math.floor(Date.now() / 1000)): string {
  return `t=${timestamp},v1=${hmac(secret, timestamp, body)}`;
}

export interface VerifyDeliveryOptions {
  /** The shared secret given as `deliver.secret`. */
  secret: string;
  /** The request body exactly as received (a Buffer or the raw string), before any parsing. */
  body: string | Buffer;
  /** The `X-Audit-Signature` header. */
  header: string | string[] | undefined;
  /** Refuse signatures older (or further in the future) than this. Defaults to 300 seconds. */
  toleranceSeconds?: number;
  /** Now, in unix seconds, for tests. */
  now?: number;
}

/** For receivers written in Node: true when the header signs this body with this secret, recently. */
export function verifyDeliverySignature(options: VerifyDeliveryOptions): boolean {
  const { secret, body, header } = options;
  if (typeof header !== 'string') return false;
  const parts = new Map(header.split(',').map((part) => part.trim().split('=', 2) as [string, string | undefined]));
  const timestamp = Number(parts.get('t'));
  const signature = parts.get('v1');
  if (!Number.isSafeInteger(timestamp) || typeof signature !== 'string' || !/^[0-9a-f]{64}$/.test(signature)) return false;
  const now = options.now ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - timestamp) > (options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS)) return false;
  return timingSafeEqual(Buffer.from(signature, 'hex'), Buffer.from(hmac(secret, timestamp, body), 'hex'));
}
