import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../../..');

describe('the generated client types', () => {
  it('are current with docs/openapi.json (run `npm run openapi` after changing a route)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tocsin-client-'));
    try {
      const out = join(dir, 'openapi.ts');
      const cli = join(ROOT, 'node_modules/openapi-typescript/bin/cli.js');
      execFileSync(process.execPath, [cli, join(ROOT, 'docs/openapi.json'), '-o', out], { stdio: 'pipe' });
      expect(readFileSync(resolve(__dirname, '../src/generated/openapi.ts'), 'utf8')).toBe(readFileSync(out, 'utf8'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
