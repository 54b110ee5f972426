import { DLQ_REASON_CLASSES, dlqReasonClass } from '../src/dead-letter';

describe('dlqReasonClass', () => {
  it.each([
    ['could not be stored: invalid byte sequence for encoding "UTF8"', 'unstorable'],
    ['unknown monitor "m-1" for tenant "t-1"', 'unknown_monitor'],
    ['invalid ProbeResult: failure_layer: Invalid option', 'invalid'],
    ['observed_at 2030-01-01T00:00:00Z is 99999 s in the future (at most 300 s allowed)', 'clock_skew'],
    ['tenant_id in the body is not the tenant of this topic (t-2)', 'tenant_mismatch'],
    ['record key must be "<tenant_id>:<monitor_id>" of the body (t:m)', 'tenant_mismatch'],
    ['tenant-id header does not match tenant_id in the body', 'tenant_mismatch'],
    ['value is not valid JSON', 'malformed'],
    ['empty record value', 'malformed'],
    ['nested deeper than 64 levels', 'malformed'],
    ['record of 2000000 bytes is larger than the 1000000 bytes a Kafka record may hold', 'too_large'],
    ['INVALID_RECORD from the broker', 'refused'],
  ])('%s → %s', (reason, expected) => {
    expect(dlqReasonClass(reason)).toBe(expected);
    expect(DLQ_REASON_CLASSES).toContain(expected);
  });
});
