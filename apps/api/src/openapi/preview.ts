import { NestFactory } from '@nestjs/core';
import type { OpenAPIObject } from '@nestjs/swagger';
import { loadConfig } from '@tocsin/config';
import { ApiModule } from '../app.module';
import { buildOpenApiDocument } from './document';

/**
 * The document built from the module in Nest's preview mode: controllers are scanned but no
 * provider is instantiated, so neither Postgres nor Kafka is needed to generate or check it.
 */
export async function openApiDocument(): Promise<OpenAPIObject> {
  const config = loadConfig({}, { TOCSIN_ADMIN_TOKEN: 'openapi-preview-token-unused' });
  const app = await NestFactory.create(ApiModule.forRoot(config), { preview: true, logger: false, abortOnError: false });
  try {
    return buildOpenApiDocument(app);
  } finally {
    await app.close();
  }
}
