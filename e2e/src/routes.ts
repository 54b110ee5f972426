import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: Json[];
  const?: Json;
  default?: Json;
  format?: string;
  minimum?: number;
  exclusiveMinimum?: number;
  minItems?: number;
  minLength?: number;
  pattern?: string;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  additionalProperties?: boolean | JsonSchema;
  $ref?: string;
}

export interface DocumentedRoute {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** As OpenAPI writes it: `/v1/monitors/{id}`. */
  readonly path: string;
  readonly pathParams: readonly string[];
  readonly queryParams: ReadonlyArray<{ name: string; schema: JsonSchema; required: boolean }>;
  readonly body?: JsonSchema;
  /** Admin routes take the operator token; the rest a tenant key (or nothing, for inbound hooks). */
  readonly auth: 'admin' | 'tenant' | 'none';
}

interface OpenApiOperation {
  parameters?: Array<{ name: string; in: string; required?: boolean; schema?: JsonSchema }>;
  requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
  security?: unknown[];
}

export function openApiDocument(): { paths: Record<string, Record<string, OpenApiOperation>> } {
  return JSON.parse(readFileSync(resolve(__dirname, '../../docs/openapi.json'), 'utf8'));
}

/** Every /v1 route of the checked-in document (which a test holds equal to the router's own table). */
export function documentedRoutes(): DocumentedRoute[] {
  const routes: DocumentedRoute[] = [];
  for (const [path, item] of Object.entries(openApiDocument().paths)) {
    if (!path.startsWith('/v1/')) continue;
    for (const [method, op] of Object.entries(item)) {
      if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
      const parameters = op.parameters ?? [];
      routes.push({
        method: method.toUpperCase() as DocumentedRoute['method'],
        path,
        pathParams: [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!),
        queryParams: parameters.filter((p) => p.in === 'query').map((p) => ({ name: p.name, schema: p.schema ?? {}, required: p.required === true })),
        ...(op.requestBody?.content?.['application/json']?.schema ? { body: op.requestBody.content['application/json'].schema } : {}),
        auth: path.startsWith('/v1/tenants') ? 'admin' : path.startsWith('/v1/hooks/') ? 'none' : 'tenant',
      });
    }
  }
  return routes;
}

export function fillPath(path: string, values: Record<string, string>): string {
  return path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(values[name] ?? ''));
}

/** A value the schema accepts, as small as it allows: only required fields, first enum values, minimums. */
export function sample(schema: JsonSchema | undefined, key = ''): Json {
  if (!schema) return null;
  if (schema.const !== undefined) return schema.const;
  if (schema.default !== undefined) return schema.default;
  if (schema.enum?.length) return schema.enum[0]!;
  const variant = schema.anyOf?.[0] ?? schema.oneOf?.[0];
  if (variant) return sample(variant, key);
  if (schema.allOf?.length) return sample(Object.assign({}, ...schema.allOf), key);
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
  switch (type) {
    case 'object': {
      const out: Record<string, Json> = {};
      for (const name of schema.required ?? []) out[name] = sample(schema.properties?.[name], name);
      return out;
    }
    case 'array':
      return Array.from({ length: schema.minItems ?? 0 }, () => sample(schema.items, key));
    case 'integer':
    case 'number':
      return Math.max(schema.minimum ?? 1, schema.exclusiveMinimum === undefined ? 1 : schema.exclusiveMinimum + 1);
    case 'boolean':
      return true;
    case 'string':
      if (schema.format === 'uri' || /url$/.test(key)) return 'https://example.com/x';
      if (schema.format === 'date-time') return '2030-01-01T00:00:00.000Z';
      if (schema.format === 'uuid') return '00000000-0000-4000-8000-000000000000';
      return 'x'.repeat(Math.max(1, schema.minLength ?? 1));
    default:
      return null;
  }
}

/** The names of a body schema's top-level properties, required first. */
export function bodyFields(schema: JsonSchema | undefined): string[] {
  const props = Object.keys(schema?.properties ?? {});
  const required = schema?.required ?? [];
  return [...required, ...props.filter((p) => !required.includes(p))];
}

/** `?a=1&b=x` with a sample value for each required query parameter ('' when there is none). */
export function requiredQuery(route: DocumentedRoute): string {
  const required = route.queryParams.filter((p) => p.required);
  return required.length ? `?${required.map((p) => `${p.name}=${encodeURIComponent(String(sample(p.schema, p.name)))}`).join('&')}` : '';
}
