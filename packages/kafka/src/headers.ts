import type { IHeaders } from 'kafkajs';

/** Kafka header values arrive as Buffers (or arrays of them); this reads one as text. */
export function headerText(headers: IHeaders | undefined, name: string): string | undefined {
  const value = headers?.[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
}
