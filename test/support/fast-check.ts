/**
 * The property tests' randomness, in one place. Under `npm test` every fast-check property runs
 * from one fixed seed, so CI is deterministic: a run that passed passes again. `npm run fuzz`
 * (scripts/fuzz.js) sets FUZZ_SEED to a fresh seed, prints it, and scales the runs up with
 * FUZZ_RUNS_FACTOR; `FUZZ_SEED=<seed> npm run fuzz` replays a failure. fast-check-setup.ts, in
 * jest's setupFiles, hands the seed to fast-check before each test file.
 */

/** The seed `npm test` uses. Changing it is changing which inputs CI tries: do it on purpose. */
export const FIXED_SEED = 20260113;

function positiveInteger(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  // A typo must not silently fall back to the fixed seed and pass as a "fuzz" run.
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`${name} must be a whole number >= 0; got '${raw}'`);
  return value;
}

export const seed = positiveInteger('FUZZ_SEED', FIXED_SEED);
const factor = positiveInteger('FUZZ_RUNS_FACTOR', 1) || 1;

/** numRuns for a property: `n` under `npm test`, `n * FUZZ_RUNS_FACTOR` under `npm run fuzz`. */
export function fuzzRuns(n: number): number {
  return n * factor;
}
