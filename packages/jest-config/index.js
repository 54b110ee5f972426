// Shared jest preset: @swc/jest compiles TypeScript with Nest's decorator metadata, and
// workspace packages resolve to their sources so tests never run against a stale build.
const path = require('node:path');

const packagesDir = path.resolve(__dirname, '..');

/** Every workspace package with a TypeScript entry; tests import these from source. */
function sourcePackages() {
  const fs = require('node:fs');
  return fs.readdirSync(packagesDir).filter((name) => fs.existsSync(path.join(packagesDir, name, 'src/index.ts')));
}

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
    // The OTLP exporter loads `http` with import(), which jest's CommonJS sandbox cannot run;
    // compiled here, it becomes a require() as in any CommonJS build.
    transformIgnorePatterns: ['/node_modules/(?!@opentelemetry/otlp-exporter-base/)'],
    moduleNameMapper: Object.fromEntries(
      sourcePackages().map((name) => [`^@tocsin/${name}$`, path.join(packagesDir, name, 'src/index.ts')]),
    ),
    testTimeout: opts.testTimeout ?? 30_000,
  };
}

module.exports = { preset };
