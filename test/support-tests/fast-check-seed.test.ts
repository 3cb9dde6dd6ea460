/** `npm test` is deterministic: every property draws from the same fixed seed on every run. */
import fc from 'fast-check';
import { FIXED_SEED, seed } from '../support/fast-check';

test('properties draw from one fixed seed unless FUZZ_SEED says otherwise', () => {
  expect(fc.readConfigureGlobal().seed).toBe(seed);
  expect(seed).toBe(process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : FIXED_SEED);
});

test('so the same property sees the same inputs on every run', () => {
  const draw = () => fc.sample(fc.array(fc.string(), { maxLength: 5 }), 20);
  expect(draw()).toEqual(draw());
});
