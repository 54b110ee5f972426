import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import SwaggerParser from '@apidevtools/swagger-parser';
import { openApiDocument } from '../src/openapi/preview';
import { serializeOpenApi } from '../src/openapi/document';

const CHECKED_IN = resolve(__dirname, '../../../docs/openapi.json');

describe('the OpenAPI document', () => {
  it('is the one checked in as docs/openapi.json (run `npm run openapi` after changing a route)', async () => {
    const generated = serializeOpenApi(await openApiDocument());
    expect(JSON.parse(readFileSync(CHECKED_IN, 'utf8'))).toEqual(JSON.parse(generated));
  });

  it('validates against the OpenAPI 3.1 schema', async () => {
    const document = JSON.parse(readFileSync(CHECKED_IN, 'utf8'));
    await expect(SwaggerParser.validate(document)).resolves.toBeDefined();
  });

  it('documents the error shape and a typed answer on every /v1 operation that answers a body', async () => {
    const document = await openApiDocument();
    const untyped: string[] = [];
    for (const [path, item] of Object.entries(document.paths).filter(([p]) => p.startsWith('/v1/'))) {
      for (const [method, operation] of Object.entries(item) as Array<[string, { responses: Record<string, { content?: unknown }> }]>) {
        expect(operation.responses['4XX']).toBeDefined();
        const success = Object.entries(operation.responses).find(([status]) => status.startsWith('2'));
        if (success && success[0] !== '204' && !success[1].content) untyped.push(`${method.toUpperCase()} ${path}`);
      }
    }
    expect(untyped).toEqual([]);
  });
});
