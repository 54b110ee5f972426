import {
  describeIssues,
  HEADERS,
  monitorKey,
  parseStorableJson,
  parseWith,
  probeResultSchema,
  TooDeepError,
  type ProbeResult,
} from '@tocsin/contracts';
import type { ConsumedRecord } from '@tocsin/kafka';

export type ParsedRecord = { ok: true; probe: ProbeResult } | { ok: false; reason: string };

export interface ParseLimits {
  /** Now, in epoch milliseconds, as the batch sees it. */
  readonly nowMs: number;
  /** How far past `nowMs` an observed_at may be (TOCSIN_MAX_CLOCK_SKEW_SECONDS). */
  readonly maxSkewMs: number;
  /** Set for a tenant topic: the tenant its name gives, which the record must name too. */
  readonly topicTenant?: string;
}

/**
 * Validates a raw record at the edge; every refusal carries a reason for the DLQ header.
 * Text in the value is made storable (a `\u0000` or a lone surrogate in a field would fail
 * the whole partition batch's transaction); the record must name one tenant in its key,
 * its `tenant-id` header and its body, so a producer cannot file results under another
 * tenant's key (and partition) or stamp them for a time that has not come.
 */
export function parseProbeRecord(record: ConsumedRecord, limits: ParseLimits): ParsedRecord {
  if (!record.value || record.value.length === 0) return { ok: false, reason: 'empty record value' };
  let json: unknown;
  try {
    json = parseStorableJson(record.value.toString('utf8'));
  } catch (err) {
    if (err instanceof TooDeepError) return { ok: false, reason: err.message };
    return { ok: false, reason: 'value is not valid JSON' };
  }
  const parsed = parseWith(probeResultSchema, json);
  if (!parsed.ok) return { ok: false, reason: `invalid ProbeResult: ${describeIssues(parsed.issues)}` };
  const probe = parsed.value;
  if (limits.topicTenant !== undefined && probe.tenant_id !== limits.topicTenant) {
    return { ok: false, reason: `tenant_id in the body is not the tenant of this topic (${limits.topicTenant})` };
  }
  const expectedKey = monitorKey(probe.tenant_id, probe.monitor_id);
  if (record.key !== expectedKey) {
    return { ok: false, reason: `record key must be "<tenant_id>:<monitor_id>" of the body (${expectedKey})` };
  }
  const headerTenant = record.headers[HEADERS.tenantId];
  if (headerTenant !== undefined && headerTenant !== probe.tenant_id) {
    return { ok: false, reason: 'tenant-id header does not match tenant_id in the body' };
  }
  const aheadMs = Date.parse(probe.observed_at) - limits.nowMs;
  if (aheadMs > limits.maxSkewMs) {
    return {
      ok: false,
      reason: `observed_at ${probe.observed_at} is ${Math.round(aheadMs / 1000)} s in the future (at most ${limits.maxSkewMs / 1000} s allowed)`,
    };
  }
  return { ok: true, probe };
}
