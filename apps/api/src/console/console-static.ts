import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import express, { type NextFunction, type Request, type Response } from 'express';

export const CONSOLE_PATH = '/console';

/** The console workspace's build output (a dependency of this app, built before it). */
export const consoleDistDir = join(dirname(require.resolve('@tocsin/console/package.json')), 'dist');

const SECURITY_HEADERS: Record<string, string> = {
  // Mantine writes its CSS variables into a <style> element, hence 'unsafe-inline' for styles only.
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

/** A person following a webhook's dashboard_url: a browser page load, no API key. */
export function isBrowserNavigation(req: Request): boolean {
  return req.method === 'GET' && !req.headers.authorization && (req.headers.accept ?? '').includes('text/html');
}

/**
 * Serves the built console at /console/ with a single-page-app fallback, and sends browsers
 * that open an incident's API address (the dashboard_url in webhook bodies) to its console page.
 * Plain Express middleware, so it adds no route to the API's own table or OpenAPI document.
 */
export function serveConsole(app: INestApplication, distDir: string = consoleDistDir): void {
  const indexHtml = join(distDir, 'index.html');

  app.use('/v1/incidents/:dedupKey', (req: Request, res: Response, next: NextFunction) => {
    if (!isBrowserNavigation(req) || req.path !== '/') return next();
    res.redirect(302, `${CONSOLE_PATH}/incidents/${encodeURIComponent(String(req.params.dedupKey))}`);
  });

  app.use(CONSOLE_PATH, (req: Request, res: Response, next: NextFunction) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.status(405).json({ statusCode: 405, error: 'Method Not Allowed', message: 'the console answers GET only' });
      return;
    }
    if (!existsSync(indexHtml)) {
      res.status(503).json({
        statusCode: 503,
        error: 'Service Unavailable',
        message: 'the console is not built: run the build (npm start and npm test do it)',
      });
      return;
    }
    next();
  });

  app.use(
    CONSOLE_PATH,
    express.static(distDir, {
      index: false,
      redirect: false,
      fallthrough: true,
      setHeaders: (res, path) => {
        // Vite puts a content hash in every asset name, so they never change under one URL.
        if (path.includes(`${join(distDir, 'assets')}`)) res.setHeader('cache-control', 'public, max-age=31536000, immutable');
      },
    }),
  );

  // Every other address under /console/ is a client-side route: answer the app and let it route.
  app.use(CONSOLE_PATH, (req: Request, res: Response) => {
    if (req.originalUrl === CONSOLE_PATH) {
      res.redirect(301, `${CONSOLE_PATH}/`);
      return;
    }
    if (req.path.startsWith('/assets/')) {
      res.status(404).json({ statusCode: 404, error: 'Not Found', message: `no console asset at ${req.path}` });
      return;
    }
    res.setHeader('cache-control', 'no-cache');
    res.sendFile(indexHtml);
  });
}
