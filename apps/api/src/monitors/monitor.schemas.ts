import { z } from 'zod';
import { FAILURE_LAYERS, SEVERITIES } from '@tocsin/contracts';

export const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).max(2048);

export const headersSchema = z.record(
  z.string().regex(/^[A-Za-z0-9-]+$/, 'header names are letters, digits and dashes'),
  z.string().max(4096),
);

/** Fields without defaults, so PATCH leaves out what the caller left out. */
const fields = {
  slug: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lowercase letters, digits and dashes, at most 63'),
  name: z.string().trim().min(1).max(200),
  url: httpUrl,
  kind: z.enum(['mcp', 'http']),
  interval_seconds: z.number().int().min(1).max(86_400),
  timeout_ms: z.number().int().min(100).max(60_000),
  confirm_after: z.number().int().min(1).max(100),
  recover_after: z.number().int().min(1).max(100),
  severity_policy: z.partialRecord(z.enum(FAILURE_LAYERS), z.enum(SEVERITIES)),
  headers: headersSchema,
  /** Availability objective: the router warns when the error budget burns too fast (DESIGN §4). */
  slo: z.strictObject({
    target: z.number().gt(0.5, 'target is a fraction such as 0.999').lt(1, 'target is a fraction below 1'),
    window_days: z.number().int().min(1).max(365),
  }),
};

/** Limits that depend on the deployment (minimum interval, private URLs) are checked by the handler. */
export const createMonitorSchema = z.strictObject({
  ...fields,
  kind: fields.kind.default('mcp'),
  interval_seconds: fields.interval_seconds.default(60),
  timeout_ms: fields.timeout_ms.default(10_000),
  confirm_after: fields.confirm_after.default(3),
  recover_after: fields.recover_after.default(1),
  severity_policy: fields.severity_policy.default({}),
  headers: fields.headers.default({}),
  slo: fields.slo.default({ target: 0.999, window_days: 30 }),
});
export type CreateMonitorBody = z.output<typeof createMonitorSchema>;

export const updateMonitorSchema = z.strictObject(fields).omit({ slug: true }).partial();
export type UpdateMonitorBody = z.output<typeof updateMonitorSchema>;
