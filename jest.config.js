/**
 * Tests import the package by its public name, resolved to the TypeScript source.
 *
 * EAL_EXPRESS=4 and EAL_MONGOOSE=8 run the same suites on the older majors: every `require('express')`
 * (tests, src, supertest apps) resolves to the `express4` dev alias, every `require('mongoose')` to
 * `mongoose8`. The mapper applies to src/ too, so the package under test uses the same copy as the app.
 */
const moduleNameMapper = {
  '^express-audit-log$': '<rootDir>/src/index.ts',
  '^express-audit-log/fastify$': '<rootDir>/src/fastify/index.ts',
  '^express-audit-log/hapi$': '<rootDir>/src/hapi/index.ts',
};
const versions = {
  EAL_EXPRESS: { name: 'express', values: { 4: 'express4', 5: 'express' } },
  EAL_MONGOOSE: { name: 'mongoose', values: { 8: 'mongoose8', 9: 'mongoose' } },
};
for (const [variable, { name, values }] of Object.entries(versions)) {
  const wanted = process.env[variable];
  if (wanted === undefined || wanted === '') continue;
  const alias = values[wanted];
  if (!alias) throw new Error(`${variable}=${wanted}: expected one of ${Object.keys(values).join(', ')}`);
  moduleNameMapper[`^${name}$`] = `<rootDir>/node_modules/${alias}`;
}

module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/package/'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  moduleNameMapper,
  // Every fast-check property runs from a fixed seed (npm run fuzz picks a fresh one): see the file.
  setupFiles: ['<rootDir>/test/support/fast-check-setup.ts'],
  testTimeout: 30000,
};
