/**
 * The packed-package test (`npm run test:package`), apart from `npm test`: it packs the package,
 * installs the tarball into fresh consumer projects and runs them, which takes a minute or two.
 */
module.exports = {
  rootDir: '../..',
  testEnvironment: 'node',
  roots: ['<rootDir>/test/package'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  testTimeout: 120000,
};
