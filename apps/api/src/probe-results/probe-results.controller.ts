import { randomUUID } from 'node:crypto';
import { Body, Controller, HttpCode, HttpException, Inject, Logger, Post, Res, UseGuards } from '@nestjs/common';
import type { Response } from 'express';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import type { TocsinConfig } from '@tocsin/config';
import { cutText, HEADERS, monitorKey, PROBE_RESULT_SCHEMA, type ProbeResult } from '@tocsin/contracts';
import { Counter } from 'prom-client';
import { MetricsRegistry, TOCSIN_CONFIG, traceHeaders } from '@tocsin/runtime';
import { KafkaProducerService, RecordTooLargeError } from '@tocsin/kafka';
import { TenantGuard, TenantId } from '../auth/guards';
import { RateLimiter, tooManyRequests } from '../auth/rate-limiter';
import { ZodValidationPipe } from '../common/zod-validation.pipe';
import { TenantScope } from '../tenants/tenant-scope';
import { MAX_PUSHED_RESULTS, pushBodySchema, pushSchemaForDocs, sortPushedResults, type PushBody } from './push-validation';

export interface PushAnswer {
  readonly accepted: number;
  readonly event_ids: string[];
  readonly rejected: Array<{ index: number; reason: string }>;
}

@ApiTags('probe results')
@ApiBearerAuth()
@UseGuards(TenantGuard)
@Controller('v1/probe-results')
export class ProbeResultsController {
  private readonly logger = new Logger(ProbeResultsController.name);
  private readonly pushed: Counter<'outcome'>;
  /** Each tenant's pushed-results quota, over all its keys (TOCSIN_QUOTA_PUSHED_RESULTS_PER_SECOND). */
  private readonly quota: RateLimiter;

  constructor(
    private readonly scope: TenantScope,
    private readonly producer: KafkaProducerService,
    @Inject(TOCSIN_CONFIG) private readonly config: TocsinConfig,
    metrics: MetricsRegistry,
  ) {
    this.pushed = new Counter({
      name: 'tocsin_pushed_results_total',
      help:
        'Results pushed to POST /v1/probe-results: accepted (Kafka acknowledged them), refused (the item was invalid), ' +
        'over_quota (the tenant pushed more results a second than its quota), unqueued (Kafka did not acknowledge; the caller retries)',
      labelNames: ['outcome'],
      registers: [metrics],
    });
    const perSecond = config.TOCSIN_QUOTA_PUSHED_RESULTS_PER_SECOND;
    this.quota = new RateLimiter(perSecond, Math.max(Math.ceil(perSecond), MAX_PUSHED_RESULTS));
  }

  /**
   * Batch push from external probers. Good items are accepted even when others are
   * rejected; the answer comes once Kafka has acknowledged every accepted record from all
   * in-sync replicas (acks=-1), so a 202 never hides a lost result.
   */
  @Post()
  @HttpCode(202)
  @ApiOperation({ summary: `Push up to ${MAX_PUSHED_RESULTS} probe results; 202 once Kafka acknowledged them` })
  @ApiBody({ schema: z.toJSONSchema(pushSchemaForDocs, { io: 'input' }) as object })
  @ApiResponse({ status: 202, description: '{accepted, event_ids, rejected: [{index, reason}]}' })
  @ApiResponse({
    status: 400,
    description:
      'no result could be accepted; details name each one (a result stamped more than TOCSIN_MAX_CLOCK_SKEW_SECONDS ahead, ' +
      'or a monitor_id or tools_hash with a NUL or lone surrogate, is refused on its own)',
  })
  @ApiResponse({ status: 429, description: 'the tenant pushed more results a second than TOCSIN_QUOTA_PUSHED_RESULTS_PER_SECOND; none was accepted, retry after Retry-After' })
  @ApiResponse({ status: 413, description: `more than ${MAX_PUSHED_RESULTS} results, or a body over 1 MiB` })
  @ApiResponse({ status: 503, description: 'Kafka did not acknowledge the results: none was accepted, the whole request may be retried' })
  async push(
    @TenantId() tenantId: string,
    @Body(new ZodValidationPipe(pushBodySchema)) body: PushBody,
    @Res({ passthrough: true }) res: Response,
  ): Promise<PushAnswer> {
    if (body.results.length > MAX_PUSHED_RESULTS) {
      throw new HttpException(
        {
          statusCode: 413,
          error: 'Payload Too Large',
          message: `results: at most ${MAX_PUSHED_RESULTS} per request, got ${body.results.length}`,
          details: [{ field: 'results', message: `at most ${MAX_PUSHED_RESULTS} per request` }],
        },
        413,
      );
    }
    const { valid, rejected } = sortPushedResults(body.results, {
      now: new Date(),
      maxClockSkewSeconds: this.config.TOCSIN_MAX_CLOCK_SKEW_SECONDS,
    });
    this.takeQuota(tenantId, valid.length, res);
    const refs = [...new Set(valid.map(({ result }) => result.monitor_id))];
    const rows = refs.length
      ? await this.scope.query<{ id: string; slug: string }>(
          'SELECT id, slug FROM monitors WHERE tenant_id = $1 AND (id::text = ANY($2) OR slug = ANY($2))',
          [refs],
        )
      : [];
    const idOf = new Map(rows.flatMap((r) => [[r.id, r.id], [r.slug, r.id]] as const));

    const accepted: ProbeResult[] = [];
    for (const { index, result } of valid) {
      const monitorId = idOf.get(result.monitor_id);
      if (monitorId === undefined) {
        rejected.push({ index, reason: `monitor_id: no monitor "${result.monitor_id}" for this tenant` });
        continue;
      }
      accepted.push({
        ...result,
        event_id: result.event_id ?? randomUUID(),
        tenant_id: tenantId,
        monitor_id: monitorId,
        observed_at: result.observed_at ?? new Date().toISOString(),
        source: 'push',
      });
    }
    rejected.sort((a, b) => a.index - b.index);
    this.pushed.inc({ outcome: 'refused' }, rejected.length);
    if (accepted.length === 0) {
      throw new HttpException(
        {
          statusCode: 400,
          error: 'Bad Request',
          message: cutText(`no result accepted: ${rejected.map((r) => `results.${r.index}: ${r.reason}`).join('; ')}`, 2000),
          details: rejected.map((r) => ({ field: `results.${r.index}`, message: r.reason })),
        },
        400,
      );
    }

    const trace = traceHeaders();
    try {
      await this.producer.send(
        this.producer.topics.probeResults,
        accepted.map((r) => ({
          key: monitorKey(tenantId, r.monitor_id),
          value: r,
          // The request's trace (the caller's traceparent, if it sent one) goes on with each result.
          headers: { [HEADERS.contentType]: 'application/json', [HEADERS.schema]: PROBE_RESULT_SCHEMA, [HEADERS.tenantId]: tenantId, ...trace },
        })),
      );
    } catch (err) {
      this.pushed.inc({ outcome: 'unqueued' }, accepted.length);
      throw this.unqueued(tenantId, accepted.length, err);
    }
    this.pushed.inc({ outcome: 'accepted' }, accepted.length);
    return { accepted: accepted.length, event_ids: accepted.map((r) => r.event_id), rejected };
  }

  /**
   * Takes the results' share of the tenant's quota, or refuses the whole push with a 429
   * naming the quota: a tenant pushing past it is held back alone (each tenant has its own
   * bucket), and nothing of a refused push is queued, so the caller retries all of it.
   */
  private takeQuota(tenantId: string, count: number, res: Response): void {
    const wait = this.quota.take(tenantId, Date.now(), count);
    if (wait === 0) return;
    this.pushed.inc({ outcome: 'over_quota' }, count);
    res.setHeader('Retry-After', String(wait));
    throw tooManyRequests(wait, this.quota, 'tenant', {
      unit: 'results',
      field: 'quotas.pushed_results_per_second',
      refused: `${count} result(s) refused, none queued (TOCSIN_QUOTA_PUSHED_RESULTS_PER_SECOND)`,
    });
  }

  /**
   * A send Kafka did not acknowledge: the caller did nothing wrong and may retry the whole
   * request; a result that carries its own event_id and observed_at is applied once even
   * if part of the first send did reach the topic.
   */
  private unqueued(tenantId: string, count: number, err: unknown): HttpException {
    const reason = err instanceof Error ? err.message : String(err);
    if (err instanceof RecordTooLargeError) {
      return new HttpException({ statusCode: 413, error: 'Payload Too Large', message: `a result is too large to queue: ${reason}` }, 413);
    }
    this.logger.warn(`push of ${count} result(s) for tenant ${tenantId} not acknowledged by Kafka: ${reason}`);
    return new HttpException(
      { statusCode: 503, error: 'Service Unavailable', message: 'the results could not be queued (Kafka did not acknowledge them); none was accepted, retry later' },
      503,
    );
  }
}
