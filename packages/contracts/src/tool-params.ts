/** Parameters a tool's signature lists at most; a tool with more has no signature (its changes are not classified). */
export const MAX_TOOL_PARAMS = 100;
export const MAX_TOOL_PARAM_NAME_LENGTH = 128;

/**
 * A tool's call signature, read from its JSON Schema `inputSchema`: each top-level
 * property's type, with `!` when it is required, e.g. `{ city: "string!", units: "string" }`.
 * Types are the schema's `type` (several joined by `|`, an array's items as `array<…>`),
 * `enum`, `const`, or `any` when the schema says no type. Undefined when there is no
 * readable schema, or more parameters than MAX_TOOL_PARAMS: such a tool's changes are
 * reported but never called breaking.
 */
export function toolParams(inputSchema: unknown): Record<string, string> | undefined {
  if (!isObject(inputSchema)) return undefined;
  const properties = inputSchema.properties ?? {};
  if (!isObject(properties)) return undefined;
  const names = Object.keys(properties).sort();
  if (names.length > MAX_TOOL_PARAMS || names.some((n) => n.length > MAX_TOOL_PARAM_NAME_LENGTH)) return undefined;
  const required = new Set(Array.isArray(inputSchema.required) ? inputSchema.required.filter((r): r is string => typeof r === 'string') : []);
  // fromEntries defines own properties, so a parameter named `__proto__` is one like any other.
  return Object.fromEntries(names.map((name) => [name, `${typeOf(properties[name], 0)}${required.has(name) ? '!' : ''}`]));
}

function typeOf(schema: unknown, depth: number): string {
  if (!isObject(schema)) return 'any';
  const { type } = schema;
  if (type === 'array' && depth === 0) return `array<${typeOf(schema.items, depth + 1)}>`;
  if (typeof type === 'string') return type.slice(0, 32);
  if (Array.isArray(type) && type.length > 0 && type.every((t) => typeof t === 'string')) return [...type].sort().join('|').slice(0, 64);
  if (Array.isArray(schema.enum)) return 'enum';
  if (schema.const !== undefined) return 'const';
  return 'any';
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
