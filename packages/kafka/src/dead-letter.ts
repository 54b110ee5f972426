import { HEADERS, storableText } from '@tocsin/contracts';

/** A dead-lettered value is kept whole up to this; past it the copy is cut, and says so. */
export const MAX_DLQ_VALUE_BYTES = 256 * 1024;
/** Headers copied from the source record, each cut to this. */
const MAX_HEADER_UNITS = 1024;
const MAX_HEADERS = 32;
const MAX_REASON_UNITS = 2048;

export const DLQ_TRUNCATED_HEADER = 'dlq-truncated-from';

export interface DeadLetterSource {
  readonly topic: string;
  readonly partition?: number;
  readonly offset?: string;
  readonly key: string | null;
  readonly value: Buffer | null;
  readonly headers: Record<string, string>;
}

export interface DeadLetter {
  readonly key: string;
  /** The source's bytes as they arrived (cut to MAX_DLQ_VALUE_BYTES). */
  readonly value: Buffer;
  readonly headers: Record<string, string>;
}

/**
 * The copy of a refused record that goes to the DLQ: its bytes as they came (so the
 * producer can see exactly what was refused), its headers made storable and bounded, and
 * the reason. It is always small enough to store and to send, whatever the source was, so
 * dead-lettering a record can never fail the way the record did.
 */
export function deadLetter(source: DeadLetterSource, reason: string): DeadLetter {
  const bytes = source.value ?? Buffer.alloc(0);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(source.headers).slice(0, MAX_HEADERS)) {
    headers[storableText(name, 128)] = storableText(value, MAX_HEADER_UNITS);
  }
  headers[HEADERS.dlqReason] = storableText(reason, MAX_REASON_UNITS);
  headers[HEADERS.dlqSourceTopic] = source.topic;
  if (source.partition !== undefined) headers[HEADERS.dlqSourcePartition] = String(source.partition);
  if (source.offset !== undefined) headers[HEADERS.dlqSourceOffset] = source.offset;
  if (bytes.length > MAX_DLQ_VALUE_BYTES) headers[DLQ_TRUNCATED_HEADER] = String(bytes.length);
  return {
    key: source.key === null ? '' : storableText(source.key, 1024),
    value: bytes.length > MAX_DLQ_VALUE_BYTES ? bytes.subarray(0, MAX_DLQ_VALUE_BYTES) : bytes,
    headers,
  };
}

/** What a DLQ reason is about, by its wording at the source: a label with few values. */
const REASON_CLASSES: ReadonlyArray<readonly [RegExp, string]> = [
  [/^could not be stored/, 'unstorable'],
  [/^unknown monitor/, 'unknown_monitor'],
  [/^invalid ProbeResult/, 'invalid'],
  [/in the future/, 'clock_skew'],
  [/tenant|record key must be/, 'tenant_mismatch'],
  [/not valid JSON|empty record value|nest/i, 'malformed'],
  [/larger than|too large/i, 'too_large'],
];

export const DLQ_REASON_CLASSES: readonly string[] = [...REASON_CLASSES.map(([, name]) => name), 'refused'];

/** `tocsin_dlq_records_total`'s `reason`: the free-text reason would make a series per record. */
export function dlqReasonClass(reason: string): string {
  return REASON_CLASSES.find(([pattern]) => pattern.test(reason))?.[1] ?? 'refused';
}
