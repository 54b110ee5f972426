// Writes the JSON Schema of ProbeResult generated from the zod schema (packages/contracts
// must be built first; `npm run json-schemas` at the root does both). A test fails when
// the checked-in copies differ from what the code generates.
const fs = require('node:fs');
const path = require('node:path');
const { probeResultJsonSchema, PROBE_RESULT_JSON_SCHEMA_FILE } = require('../dist');

const text = `${JSON.stringify(probeResultJsonSchema(), null, 2)}\n`;
for (const dir of [path.join(__dirname, '../schemas'), path.join(__dirname, '../../../docs/schemas')]) {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, PROBE_RESULT_JSON_SCHEMA_FILE), text);
  console.log(`wrote ${path.relative(process.cwd(), path.join(dir, PROBE_RESULT_JSON_SCHEMA_FILE))}`);
}
