import { readFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../../..');

/**
 * The node flags an app declares in its package.json (`"tocsin": { "nodeOptions": [...] }`,
 * e.g. the router's heap bound), so benchmarks and tests start it as `npm start`, the
 * image and the manifests do.
 */
export function appNodeOptions(app: string): string[] {
  const manifest = JSON.parse(readFileSync(path.join(ROOT, 'apps', app, 'package.json'), 'utf8')) as { tocsin?: { nodeOptions?: string[] } };
  return manifest.tocsin?.nodeOptions ?? [];
}

/** The arguments that start an app's built entry point with its declared node flags. */
export function appMainArgs(app: string): string[] {
  return [...appNodeOptions(app), path.join(ROOT, 'apps', app, 'dist', 'main.js')];
}
