import { z } from 'zod';
import { PROBE_RESULT_SCHEMA, probeResultSchema } from './probe-result';

export const PROBE_RESULT_JSON_SCHEMA_FILE = 'probe-result.v1.schema.json';

/**
 * JSON Schema (draft 2020-12) of ProbeResult, generated from the zod schema so the two
 * cannot drift: producers in any language validate against it before writing to Kafka.
 * The zod refinement (a failed result names its layer or a receiver status) has no
 * JSON Schema form of its own, so it is added here as an if/then.
 */
export function probeResultJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(probeResultSchema, { io: 'input', target: 'draft-2020-12' }) as Record<string, unknown>;
  const { $schema, ...rest } = generated;
  return {
    $schema,
    title: PROBE_RESULT_SCHEMA,
    description:
      'One probe result on tocsin.probe-results.v1 (key "<tenant_id>:<monitor_id>", headers content-type: application/json, ' +
      `schema: ${PROBE_RESULT_SCHEMA}, tenant-id). Generated from the zod schema in @tocsin/contracts; do not edit by hand.`,
    ...rest,
    if: { properties: { ok: { const: false } }, required: ['ok'] },
    then: { anyOf: [{ required: ['failure_layer'] }, { required: ['status'] }] },
  };
}
