/** What a receiver relies on to trust a delivery: the signature covers the body, the secret and a recent timestamp. */
import { verifyDeliverySignature } from 'express-audit-log';
import { signDelivery } from '../../src/delivery/signature';

const secret = 'a-delivery-secret-of-32-chars-or-more';
const body = '{"_id":"65f0c0ffee65f0c0ffee0001"}\n';
const now = 1_800_000_000;

test('a header made with the secret verifies, for a string or a Buffer body', () => {
  const header = signDelivery(secret, body, now);
  expect(verifyDeliverySignature({ secret, body, header, now })).toBe(true);
  expect(verifyDeliverySignature({ secret, body: Buffer.from(body), header, now })).toBe(true);
});

test('the same signature computed by hand, as a receiver in another language would', () => {
  const { createHmac } = require('node:crypto') as typeof import('node:crypto');
  const expected = createHmac('sha256', secret).update(`${now}.${body}`).digest('hex');
  expect(signDelivery(secret, body, now)).toBe(`t=${now},v1=${expected}`);
});

test.each([
  ['a changed body', { body: body.replace('0001', '0002') }],
  ['another secret', { secret: 'another-secret-another-secret-another' }],
  ['a timestamp over 5 minutes old', { now: now + 301 }],
  ['a timestamp from the future', { now: now - 301 }],
  ['no header', { header: undefined }],
  ['a malformed header', { header: 'sha256=abc' }],
])('refused: %s', (_, change) => {
  const header = signDelivery(secret, body, now);
  expect(verifyDeliverySignature({ secret, body, header, now, ...change })).toBe(false);
});
