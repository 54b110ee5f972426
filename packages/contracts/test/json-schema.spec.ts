import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { PROBE_RESULT_JSON_SCHEMA_FILE, probeResultJsonSchema, probeResultSchema } from '../src';

const ROOT = join(__dirname, '../../..');
const CHECKED_IN = ['packages/contracts/schemas', 'docs/schemas'];

describe('the JSON Schema of ProbeResult', () => {
  const schema = probeResultJsonSchema();
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  addFormats(ajv);
  const validate = ajv.compile(schema);

  it.each(CHECKED_IN)('is checked in, current with the zod schema, in %s (regenerate: npm run json-schemas)', (file) => {
    expect(JSON.parse(readFileSync(join(ROOT, file, PROBE_RESULT_JSON_SCHEMA_FILE), 'utf8'))).toEqual(schema);
  });

  const good = {
    event_id: randomUUID(),
    tenant_id: randomUUID(),
    monitor_id: 'search-mcp',
    observed_at: '2026-11-24T01:02:03.456Z',
    ok: true,
    latency_ms: 12,
    source: 'kafka',
  };
  const samples: Array<[string, unknown]> = [
    ['a healthy result', good],
    ['a failure with its layer', { ...good, ok: false, failure_layer: 'initialize', error: 'JSON-RPC -32602' }],
    ['a receiver status without a layer', { ...good, ok: true, status: 'maintenance', source: 'receiver' }],
    ['a failed receiver status', { ...good, ok: false, status: 'down', source: 'receiver' }],
    ['tools with their hashes', { ...good, tools_hash: 'abc', tools: [{ name: 'search', hash: 'def' }] }],
    ['an offset timestamp', { ...good, observed_at: '2026-11-24T02:02:03+01:00' }],
    ['an OAuth-protected server', { ...good, auth: 'protected', http_status: 401, source: 'active' }],
    ['an unknown auth state', { ...good, auth: 'open' }],
    ['a failure without a layer', { ...good, ok: false }],
    ['an unknown layer', { ...good, ok: false, failure_layer: 'dns' }],
    ['a bad event id', { ...good, event_id: 'not-a-uuid' }],
    ['no source', { ...good, source: undefined }],
    ['an unknown source', { ...good, source: 'carrier-pigeon' }],
    ['a timestamp without zone', { ...good, observed_at: '2026-11-24T01:02:03' }],
    ['a negative latency', { ...good, latency_ms: -1 }],
    ['an HTTP status out of range', { ...good, http_status: 700 }],
    ['ok as text', { ...good, ok: 'true' }],
    ['an empty monitor id', { ...good, monitor_id: '' }],
    ['a tool without a name', { ...good, tools: [{ hash: 'x' }] }],
    ['not an object', 'ProbeResult'],
  ];

  it.each(samples)('gives the same verdict as the zod schema for %s', (_, sample) => {
    const value = JSON.parse(JSON.stringify(sample)) as unknown;
    expect(validate(value)).toBe(probeResultSchema.safeParse(value).success);
  });

  it('accepts the good samples and refuses the bad ones', () => {
    const verdicts = samples.map(([name, sample]) => [name, validate(JSON.parse(JSON.stringify(sample)))]);
    expect(verdicts.filter(([, ok]) => ok).map(([name]) => name)).toEqual([
      'a healthy result',
      'a failure with its layer',
      'a receiver status without a layer',
      'a failed receiver status',
      'tools with their hashes',
      'an offset timestamp',
      'an OAuth-protected server',
    ]);
  });
});
