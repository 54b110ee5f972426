module.exports = { displayName: 'local', testEnvironment: 'node', roots: ['<rootDir>/test'], testTimeout: 120000 };
