import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { z } from 'zod';
import { TOCSIN_VERSION } from '@tocsin/contracts';
import { NAMED_SCHEMAS, ROUTE_ANSWERS, ROUTE_QUERIES, type AnswerShape } from './schemas';

type JsonObject = Record<string, unknown>;

/** A zod schema as an OpenAPI 3.1 schema object (JSON Schema 2020-12 without the `$schema` tag). */
export function jsonSchema(schema: z.ZodType, io: 'input' | 'output' = 'input'): JsonObject {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonObject;
  return rest;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

function answerSchema(shape: AnswerShape): JsonObject {
  if (typeof shape === 'string') return ref(shape);
  return {
    type: 'object',
    required: ['data', 'next_cursor'],
    properties: { data: { type: 'array', items: ref(shape[0]) }, next_cursor: { type: ['string', 'null'] } },
  };
}

/** Every page takes the same cursor, limit and order (common/pagination.ts). */
const PAGE_QUERY = { limit: z.number().int().min(1).max(200), cursor: z.string(), order: z.enum(['asc', 'desc']) };

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

/**
 * The OpenAPI document of the running code: routes, parameters and request bodies from the
 * controllers' decorators, answers from ROUTE_ANSWERS, and the one error shape on every route.
 */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setOpenAPIVersion('3.1.0')
      .setTitle('Tocsin control-plane API')
      .setDescription(
        'Tenants, keys, monitors, endpoints, deliveries, incidents and receivers. Every refusal is ' +
          '`{statusCode, error, message, details?}`; lists are `{data, next_cursor}`.',
      )
      .setVersion(TOCSIN_VERSION)
      .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'tenant API key, or the admin token for /v1/tenants' })
      .build(),
    { operationIdFactory: (controller, method) => `${controller.replace(/Controller$/, '')}_${method}` },
  );
  // A body typed `z.output<…>` without @ApiBody leaves an empty `output` model behind (tsc's
  // decorator metadata, not swc's): drop it, so the document does not depend on the compiler.
  const { output: _output, input: _input, ...scanned } = document.components?.schemas ?? {};
  const schemas: JsonObject = { ...scanned };
  for (const [name, schema] of Object.entries(NAMED_SCHEMAS)) schemas[name] = jsonSchema(schema, 'output');
  document.components = { ...document.components, schemas: schemas as NonNullable<OpenAPIObject['components']>['schemas'] };

  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of METHODS) {
      const operation = item[method];
      if (!operation) continue;
      const bodySchema = (operation.requestBody as { content?: Record<string, { schema?: { $ref?: string } }> } | undefined)?.content?.[
        'application/json'
      ]?.schema?.$ref;
      if (bodySchema === '#/components/schemas/output' || bodySchema === '#/components/schemas/input') delete operation.requestBody;
      const responses = operation.responses as unknown as Record<string, JsonObject>;
      const success = Object.keys(responses).find((status) => status.startsWith('2'));
      const route = `${method.toUpperCase()} ${path}`;
      const shape = ROUTE_ANSWERS[route];
      const query = { ...(Array.isArray(shape) && method === 'get' ? PAGE_QUERY : {}), ...ROUTE_QUERIES[route] };
      const documented = new Set((operation.parameters ?? []).map((p) => ('name' in p ? `${p.in}:${p.name}` : '')));
      const added = Object.entries(query)
        .filter(([name]) => !documented.has(`query:${name}`))
        .map(([name, schema]) => ({ name, in: 'query' as const, required: false, schema: jsonSchema(schema) }));
      if (added.length) operation.parameters = [...(operation.parameters ?? []), ...added];
      if (success && shape && success !== '204') {
        responses[success] = {
          ...responses[success],
          description: String(responses[success]?.description || 'success'),
          content: { 'application/json': { schema: answerSchema(shape) } },
        };
      }
      if (success && !responses[success]?.description) responses[success] = { ...responses[success], description: 'success' };
      responses['4XX'] = {
        description: 'refused: bad input (400), no or revoked key (401), not found (404), conflict (409), ' +
          'body too large (413), not JSON (415), rate limited (429, with Retry-After)',
        content: { 'application/json': { schema: ref('Error') } },
      };
    }
  }
  return document;
}

/** The document as checked in to docs/openapi.json: stable key order, two-space indent, final newline. */
export function serializeOpenApi(document: OpenAPIObject): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}
