const path = require('node:path');
const { preset } = require('@tocsin/jest-config');

const base = preset({ displayName: 'e2e', testTimeout: 120_000 });
const apps = path.resolve(__dirname, '../apps');

module.exports = {
  ...base,
  moduleNameMapper: {
    ...base.moduleNameMapper,
    '^@tocsin/(api|probe-ingest|severity-router|dispatcher)$': path.join(apps, '$1/src/index.ts'),
  },
  globalSetup: '<rootDir>/src/global-setup.js',
  globalTeardown: '<rootDir>/src/global-teardown.js',
};
