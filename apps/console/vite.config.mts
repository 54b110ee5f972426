import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// Served by the API process under /console/; every call goes to /v1 on the same origin.
export default defineConfig({
  base: '/console/',
  resolve: {
    // The typed client is bundled from its TypeScript source (ESM), not its CommonJS build.
    alias: { '@tocsin/client': fileURLToPath(new URL('../../packages/client/src/index.ts', import.meta.url)) },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 1500,
    sourcemap: false,
    rollupOptions: {
      // Mantine marks its modules "use client" for server frameworks; a browser bundle has no use for it.
      onwarn(warning, warn) {
        if (warning.code !== 'MODULE_LEVEL_DIRECTIVE') warn(warning);
      },
    },
  },
  server: { proxy: { '/v1': process.env.TOCSIN_URL ?? 'http://127.0.0.1:8080' } },
});
