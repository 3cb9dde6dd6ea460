/** Tests import the package by its public name, resolved to the TypeScript source. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  moduleNameMapper: { '^express-audit-log$': '<rootDir>/src/index.ts' },
  testTimeout: 30000,
};
