// The cluster tier's jest configuration (`npm run test:cluster`): test/cluster only, one file at a
// time (each starts its own control plane), TypeScript transpiled without type-checking (`npm test`
// type-checks these files with the rest).
/** @type {import('jest').Config} */
module.exports = {
  rootDir: '../..',
  testMatch: ['<rootDir>/test/cluster/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/lib/', '/dist/'],
  moduleNameMapper: {
    '^mlplatform$': '<rootDir>/src/core',
    '^mlplatform/(cdk8s|pulumi|testing)$': '<rootDir>/src/$1',
  },
  transform: { '^.+\\.[t]sx?$': ['ts-jest', { tsconfig: 'test/tsconfig.json', isolatedModules: true }] },
  testTimeout: 600000,
  reporters: ['default'],
};
