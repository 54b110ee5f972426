import { z } from 'zod';
import { DEFAULT_SIGNATURE_HEADER, DOT_PATH, isSingleLineText, RECEIVER_STATUSES } from './inbound-mapping';

const storable = 'no control characters or unpaired surrogates';
const text = (min: number, max: number) => z.string().min(min).max(max).refine(isSingleLineText, storable);
const dotPath = z
  .string()
  .max(200)
  .regex(DOT_PATH, 'a dot path such as data.attributes.current_status')
  .refine(isSingleLineText, storable);

export const createReceiverSchema = z
  .strictObject({
    name: z.string().trim().min(1).max(200).refine(isSingleLineText, storable),
    monitor_id: z.uuid().optional(),
    status_field: dotPath,
    service_field: dotPath.optional(),
    message_field: dotPath.optional(),
    mapping: z
      .record(text(1, 100), z.enum(RECEIVER_STATUSES))
      .refine((m) => Object.keys(m).length <= 100, 'at most 100 entries')
      .default({}),
    secret: text(8, 500).optional(),
    signature_header: z
      .string()
      .regex(/^[A-Za-z0-9-]{1,100}$/, 'a header name: letters, digits and dashes')
      .default(DEFAULT_SIGNATURE_HEADER),
  })
  .refine((r) => r.monitor_id !== undefined || r.service_field !== undefined, {
    message: 'set monitor_id, or service_field to match a monitor by slug or name',
    path: ['monitor_id'],
  });
export type CreateReceiverBody = z.output<typeof createReceiverSchema>;
