import { randomUUID } from 'node:crypto';
import { Body, Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import {
  FAILURE_LAYERS,
  HEADERS,
  monitorKey,
  PROBE_RESULT_SCHEMA,
  SERVICE_STATUSES,
  type ProbeResult,
} from '@tocsin/contracts';
import { KafkaProducerService } from '@tocsin/kafka';
import { TenantGuard, TenantId } from '../auth/guards';
import { unwrap } from '../common/http-result';
import { refuse } from '../common/result';
import { ZodValidationPipe } from '../common/zod-validation.pipe';
import { TenantScope } from '../tenants/tenant-scope';

const pushedResult = z
  .strictObject({
    monitor_id: z.string().min(1).max(100),
    ok: z.boolean(),
    observed_at: z.iso.datetime({ offset: true }).optional(),
    event_id: z.uuid().optional(),
    failure_layer: z.enum(FAILURE_LAYERS).optional(),
    error: z.string().max(2000).optional(),
    latency_ms: z.number().nonnegative().optional(),
    http_status: z.number().int().min(100).max(599).optional(),
    tools_hash: z.string().max(200).optional(),
    status: z.enum(SERVICE_STATUSES).optional(),
  })
  .refine((r) => r.ok || r.failure_layer !== undefined || r.status !== undefined, {
    message: 'a failed result needs failure_layer',
    path: ['failure_layer'],
  });
const pushSchema = z.strictObject({ results: z.array(pushedResult).min(1).max(500) });

@ApiTags('probe results')
@ApiBearerAuth()
@UseGuards(TenantGuard)
@Controller('v1/probe-results')
export class ProbeResultsController {
  constructor(
    private readonly scope: TenantScope,
    private readonly producer: KafkaProducerService,
  ) {}

  /** Batch push from external probers; accepted once Kafka has acknowledged every record. */
  @Post()
  @HttpCode(202)
  @ApiBody({ schema: z.toJSONSchema(pushSchema, { io: 'input' }) as object })
  async push(@TenantId() tenantId: string, @Body(new ZodValidationPipe(pushSchema)) body: z.output<typeof pushSchema>) {
    const refs = [...new Set(body.results.map((r) => r.monitor_id))];
    const rows = await this.scope.query<{ id: string; slug: string }>(
      'SELECT id, slug FROM monitors WHERE tenant_id = $1 AND (id::text = ANY($2) OR slug = ANY($2))',
      [refs],
    );
    const idOf = new Map(rows.flatMap((r) => [[r.id, r.id], [r.slug, r.id]] as const));
    const unknown = body.results.findIndex((r) => !idOf.has(r.monitor_id));
    if (unknown >= 0) unwrap(refuse(400, 'no such monitor for this tenant', `results.${unknown}.monitor_id`));

    const results: ProbeResult[] = body.results.map((r) => ({
      ...r,
      event_id: r.event_id ?? randomUUID(),
      tenant_id: tenantId,
      monitor_id: idOf.get(r.monitor_id)!,
      observed_at: r.observed_at ?? new Date().toISOString(),
      source: 'push',
    }));
    const topic = this.producer.topics.probeResults;
    await this.producer.send(
      topic,
      results.map((r) => ({
        key: monitorKey(tenantId, r.monitor_id),
        value: r,
        headers: { [HEADERS.contentType]: 'application/json', [HEADERS.schema]: PROBE_RESULT_SCHEMA, [HEADERS.tenantId]: tenantId },
      })),
    );
    return { accepted: results.length, event_ids: results.map((r) => r.event_id) };
  }
}
