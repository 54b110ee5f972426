import type { INestApplication } from '@nestjs/common';
import { json } from 'express';
import { SwaggerModule } from '@nestjs/swagger';
import type { ServiceDefinition } from '@tocsin/runtime';
import { ApiModule } from './app.module';
import { JsonErrorFilter } from './common/http-exception.filter';
import { JSON_TYPES, jsonOnly } from './common/json-only.middleware';
import { rejectNul } from './common/reject-nul.middleware';
import { serveConsole } from './console/console-static';
import { buildOpenApiDocument } from './openapi/document';
import { TenantContext } from './tenants/tenant-context';

/** The largest request body the API reads (DESIGN §7: a probe-result batch up to 1 MiB). */
export const BODY_LIMIT_BYTES = 1024 * 1024;

/** HTTP setup shared by main.ts and tests: body limits, the tenant context, errors, OpenAPI. */
export function configureApi(app: INestApplication): void {
  // Registered before Nest's own parsers, which then skip JSON; `req.rawBody` keeps the bytes for signature checks.
  app.use(
    json({
      limit: BODY_LIMIT_BYTES,
      type: JSON_TYPES,
      verify: (req, _res, raw) => {
        (req as { rawBody?: Buffer }).rawBody = raw;
      },
    }),
  );
  app.use(jsonOnly);
  app.use(rejectNul);
  app.use(TenantContext.middleware);
  app.useGlobalFilters(new JsonErrorFilter());
  SwaggerModule.setup('docs', app, buildOpenApiDocument(app));
  serveConsole(app);
}

export const apiService: ServiceDefinition = {
  name: 'api',
  defaultPort: 8080,
  module: (config) => ApiModule.forRoot(config),
  configure: (app) => configureApi(app),
};

export { ApiModule } from './app.module';
export { buildOpenApiDocument, serializeOpenApi } from './openapi/document';
export { openApiDocument } from './openapi/preview';
