import { describeIssues, HEADERS, parseWith, probeResultSchema, type ProbeResult } from '@tocsin/contracts';
import type { ConsumedRecord } from '@tocsin/kafka';

export type ParsedRecord = { ok: true; probe: ProbeResult } | { ok: false; reason: string };

/** Validates a raw record at the edge; every refusal carries a reason for the DLQ header. */
export function parseProbeRecord(record: ConsumedRecord): ParsedRecord {
  if (!record.value || record.value.length === 0) return { ok: false, reason: 'empty record value' };
  let json: unknown;
  try {
    json = JSON.parse(record.value.toString('utf8'));
  } catch {
    return { ok: false, reason: 'value is not valid JSON' };
  }
  const parsed = parseWith(probeResultSchema, json);
  if (!parsed.ok) return { ok: false, reason: `invalid ProbeResult: ${describeIssues(parsed.issues)}` };
  const headerTenant = record.headers[HEADERS.tenantId];
  if (headerTenant !== undefined && headerTenant !== parsed.value.tenant_id) {
    return { ok: false, reason: 'tenant-id header does not match tenant_id in the body' };
  }
  return { ok: true, probe: parsed.value };
}
