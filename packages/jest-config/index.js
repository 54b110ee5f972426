// Shared jest preset: @swc/jest compiles TypeScript with Nest's decorator metadata, and
// workspace packages resolve to their sources so tests never run against a stale build.
const path = require('node:path');

const packagesDir = path.resolve(__dirname, '..');

/** @param {{ displayName: string, testTimeout?: number }} opts */
function preset(opts) {
  return {
    displayName: opts.displayName,
    testEnvironment: 'node',
    roots: ['<rootDir>/src', '<rootDir>/test'].filter((r) =>
      require('node:fs').existsSync(r.replace('<rootDir>', process.cwd())),
    ),
    testMatch: ['**/*.spec.ts', '**/*.test.ts'],
    transform: {
      '^.+\\.(t|j)s$': [
        require.resolve('@swc/jest'),
        {
          jsc: {
            parser: { syntax: 'typescript', decorators: true },
            transform: { legacyDecorator: true, decoratorMetadata: true },
            target: 'es2022',
            keepClassNames: true,
          },
          module: { type: 'commonjs' },
          sourceMaps: 'inline',
        },
      ],
    },
    moduleNameMapper: {
      '^@tocsin/(contracts|config|database|event-store|kafka|signing|mcp-probe|testing|runtime|net-guard)$':
        path.join(packagesDir, '$1/src/index.ts'),
    },
    testTimeout: opts.testTimeout ?? 30_000,
  };
}

module.exports = { preset };
