import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { openApiDocument } from './openapi/preview';
import { serializeOpenApi } from './openapi/document';

/** `npm run openapi`: writes the API's OpenAPI document to the path given (docs/openapi.json). */
async function main(): Promise<void> {
  const target = resolve(process.argv[2] ?? 'docs/openapi.json');
  writeFileSync(target, serializeOpenApi(await openApiDocument()));
  process.stdout.write(`wrote ${target}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`openapi: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
