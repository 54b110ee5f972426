import { randomUUID } from 'node:crypto';
import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { TocsinConfig } from '@tocsin/config';
import { ENDPOINT_EVENTS, type EndpointSecretRotatedData, type ReplayRequestedData } from '@tocsin/contracts';
import type { EndpointEntity, PreviousSecret } from '@tocsin/database';
import { enqueueDeliveries, REPLAYABLE_STATUSES, requeueDeliveries, testDelivery, type KafkaDestinationConfig } from '@tocsin/delivery-queue';
import { TOCSIN_CONFIG, traceHeaders } from '@tocsin/runtime';
import { sealedIn, SecretBox } from '@tocsin/secrets';
import { generateWebhookSecret } from '@tocsin/signing';
import { refuse, type Outcome } from '../../common/result';
import { checkTargetUrl } from '../../common/url-policy';
import { Quotas } from '../../tenants/quotas';
import { EndpointRepository } from '../endpoint.repository';
import { CONFIG_KEY, configIssues, MAX_REPLAY_DELIVERIES, operationalIn, type DestinationConfig, type CreateEndpointBody, type ReplayBody, type RotateSecretBody, type UpdateEndpointBody } from '../endpoint.schemas';

/** An endpoint with its signing secret in plaintext: only the create and rotate answers carry it. */
export interface EndpointWithSecret {
  readonly endpoint: EndpointEntity;
  readonly secret: string;
}

/** Headers (often the receiver's own bearer token) are stored sealed; only their names stay readable. */
function sealHeaders(
  box: SecretBox,
  endpointId: string,
  headers: Record<string, string>,
): Pick<EndpointEntity, 'headers' | 'sealed_headers' | 'header_names'> {
  const names = Object.keys(headers).sort();
  return { headers: {}, header_names: names, sealed_headers: names.length > 0 ? box.sealJson(headers, sealedIn.endpointHeaders(endpointId)) : null };
}

export class RegisterEndpointCommand extends Command<Outcome<EndpointWithSecret>> {
  constructor(readonly tenantId: string, readonly body: CreateEndpointBody) {
    super();
  }
}

export class UpdateEndpointCommand extends Command<Outcome<EndpointEntity>> {
  constructor(readonly tenantId: string, readonly endpointId: string, readonly changes: UpdateEndpointBody) {
    super();
  }
}

export class RemoveEndpointCommand extends Command<Outcome<true>> {
  constructor(readonly tenantId: string, readonly endpointId: string) {
    super();
  }
}

export class PauseEndpointCommand extends Command<Outcome<EndpointEntity>> {
  constructor(readonly tenantId: string, readonly endpointId: string) {
    super();
  }
}

export class ResumeEndpointCommand extends Command<Outcome<EndpointEntity>> {
  constructor(readonly tenantId: string, readonly endpointId: string) {
    super();
  }
}

export class SendTestWebhookCommand extends Command<Outcome<{ delivery_id: string }>> {
  constructor(readonly tenantId: string, readonly endpointId: string) {
    super();
  }
}

export class RotateEndpointSecretCommand extends Command<Outcome<{ secret: string; previous_expires_at: string }>> {
  constructor(readonly tenantId: string, readonly endpointId: string, readonly body: RotateSecretBody) {
    super();
  }
}

export class ReplayDeliveriesCommand extends Command<Outcome<{ count: number; dry_run: boolean }>> {
  constructor(readonly tenantId: string, readonly endpointId: string, readonly body: ReplayBody) {
    super();
  }
}

const notFound = (id: string) => refuse(404, `endpoint ${id} not found`);

/** Why an endpoint cannot name this fallback: it is the endpoint itself, or not one of the tenant's endpoints. */
async function fallbackRefusal(endpoints: EndpointRepository, tenantId: string, fallbackId: string | null | undefined, selfId: string | null) {
  if (!fallbackId) return null;
  if (fallbackId === selfId) return refuse(400, 'cannot be the endpoint itself', 'fallback_endpoint_id');
  return (await endpoints.find(tenantId, fallbackId)) ? null : refuse(400, `endpoint ${fallbackId} not found`, 'fallback_endpoint_id');
}

@CommandHandler(RegisterEndpointCommand)
export class RegisterEndpointHandler implements ICommandHandler<RegisterEndpointCommand> {
  constructor(
    private readonly endpoints: EndpointRepository,
    private readonly box: SecretBox,
    @Inject(TOCSIN_CONFIG) private readonly config: TocsinConfig,
    private readonly quotas: Quotas,
  ) {}

  async execute({ tenantId, body }: RegisterEndpointCommand): Promise<Outcome<EndpointWithSecret>> {
    const overQuota = await this.quotas.refusal(tenantId, 'endpoints');
    if (overQuota) return overQuota;
    const { config, ...fields } = body;
    const destination = body.type === 'webhook' ? webhookTarget(body.url!, this.config) : storedDestination(body.type, config!, this.config);
    if (!destination.ok) return destination;
    const noFallback = await fallbackRefusal(this.endpoints, tenantId, body.fallback_endpoint_id, null);
    if (noFallback) return noFallback;
    const { url } = destination.value;
    const secret = destination.value.sealed ?? body.secret ?? generateWebhookSecret();
    const id = randomUUID();
    const endpoint = await this.endpoints.insert({
      id,
      tenant_id: tenantId,
      ...fields,
      url,
      ...sealHeaders(this.box, id, body.headers),
      secret: this.box.seal(secret, sealedIn.endpointSecret(id)),
      previous_secrets: [],
      status: 'active',
    });
    return { ok: true, value: { endpoint, secret } };
  }
}

@CommandHandler(UpdateEndpointCommand)
export class UpdateEndpointHandler implements ICommandHandler<UpdateEndpointCommand> {
  constructor(
    private readonly endpoints: EndpointRepository,
    @Inject(TOCSIN_CONFIG) private readonly config: TocsinConfig,
    private readonly box: SecretBox,
  ) {}

  async execute({ tenantId, endpointId, changes }: UpdateEndpointCommand): Promise<Outcome<EndpointEntity>> {
    const current = await this.endpoints.find(tenantId, endpointId);
    if (!current) return notFound(endpointId);
    const mismatch = fieldsForOtherType(current.type, changes);
    if (mismatch) return refuse(400, `does not apply to a ${current.type} endpoint`, mismatch);
    const notices = current.type === 'webhook' ? [] : operationalIn(changes.events ?? []);
    if (notices.length > 0) return refuse(400, `${notices.join(', ')}: operational notices go to webhook endpoints only`, 'events');
    const { headers, config, ...rest } = changes;
    if (config !== undefined && current.type !== 'webhook') {
      const [issue] = configIssues(current.type, config);
      if (issue) return refuse(400, issue.message, issue.path.join('.'));
    }
    const noFallback = await fallbackRefusal(this.endpoints, tenantId, changes.fallback_endpoint_id, endpointId);
    if (noFallback) return noFallback;
    const destination =
      config !== undefined && current.type !== 'webhook'
        ? storedDestination(current.type, config, this.config)
        : changes.url !== undefined
          ? webhookTarget(changes.url, this.config)
          : null;
    if (destination && !destination.ok) return destination;
    const target = destination?.value;
    const sealed = {
      ...(headers === undefined ? {} : sealHeaders(this.box, endpointId, headers)),
      ...(target ? { url: target.url } : {}),
      ...(target?.sealed === undefined ? {} : { secret: this.box.seal(target.sealed, sealedIn.endpointSecret(endpointId)) }),
    };
    const updated = await this.endpoints.update(tenantId, endpointId, { ...rest, ...sealed });
    return updated ? { ok: true, value: updated } : notFound(endpointId);
  }
}

/** The first changed field an endpoint of this type has no use for, if any. */
function fieldsForOtherType(type: EndpointEntity['type'], changes: UpdateEndpointBody): string | null {
  const foreign = type === 'webhook' ? (['config'] as const) : (['url', 'method', 'headers'] as const);
  return foreign.find((field) => changes[field] !== undefined) ?? null;
}

/** What an endpoint stores of where it sends: the `url` every answer shows, and what is sealed in its secret column. */
interface StoredDestination {
  readonly url: string;
  /** A routing key, a secret URL or a cluster's address and credentials; undefined keeps (or generates) a signing secret. */
  readonly sealed?: string;
}

function webhookTarget(url: string, settings: TocsinConfig): Outcome<StoredDestination> {
  return checkTargetUrl(url, settings) ?? { ok: true, value: { url } };
}

/**
 * A destination's config as the endpoint stores it. PagerDuty shows PAGERDUTY_EVENTS_URL and
 * seals the routing key; Slack shows only its webhook's origin and seals the URL, whose path
 * is the secret; email shows `mailto:` its recipients; Kafka shows `kafka://brokers/topic`
 * and seals brokers, topic and credentials together. Every address Tocsin will connect to
 * passes the same policy as a webhook URL.
 */
function storedDestination(type: Exclude<EndpointEntity['type'], 'webhook'>, config: DestinationConfig, settings: TocsinConfig): Outcome<StoredDestination> {
  switch (type) {
    case 'pagerduty':
      return { ok: true, value: { url: settings.PAGERDUTY_EVENTS_URL, sealed: config.routing_key! } };
    case 'slack':
      return checkTargetUrl(config.url!, settings, 'config.url') ?? { ok: true, value: { url: `${new URL(config.url!).origin}/…`, sealed: config.url! } };
    case 'email':
      return { ok: true, value: { url: `mailto:${config.to!.join(',')}` } };
    case 'kafka': {
      for (const broker of config.brokers!) {
        const refused = checkTargetUrl(`http://${broker}`, settings, 'config.brokers');
        if (refused) return refused;
      }
      const cluster: KafkaDestinationConfig = { brokers: config.brokers!, topic: config.topic!, ...(config.sasl ? { sasl: config.sasl } : {}), ...(config.ssl ? { ssl: true } : {}) };
      return { ok: true, value: { url: `kafka://${config.brokers!.join(',')}/${config.topic!}`, sealed: JSON.stringify(cluster) } };
    }
  }
}

@CommandHandler(RemoveEndpointCommand)
export class RemoveEndpointHandler implements ICommandHandler<RemoveEndpointCommand> {
  constructor(private readonly endpoints: EndpointRepository) {}

  async execute({ tenantId, endpointId }: RemoveEndpointCommand): Promise<Outcome<true>> {
    return (await this.endpoints.remove(tenantId, endpointId)) ? { ok: true, value: true } : notFound(endpointId);
  }
}

/** Paused endpoints keep receiving deliveries, recorded as skipped so they can be replayed. */
@CommandHandler(PauseEndpointCommand)
export class PauseEndpointHandler implements ICommandHandler<PauseEndpointCommand> {
  constructor(private readonly endpoints: EndpointRepository) {}

  async execute({ tenantId, endpointId }: PauseEndpointCommand): Promise<Outcome<EndpointEntity>> {
    const paused = await this.endpoints.change(tenantId, endpointId, async (endpoint, manager) => {
      if (endpoint.status === 'paused') return { value: endpoint, events: [] };
      await manager.query(`UPDATE endpoints SET status = 'paused', updated_at = now() WHERE id = $1`, [endpointId]);
      return {
        value: { ...endpoint, status: 'paused' as const },
        events: [{ ...ENDPOINT_EVENTS.EndpointPaused, data: { endpoint_id: endpointId, previous_status: endpoint.status } }],
      };
    });
    return paused ? { ok: true, value: paused } : notFound(endpointId);
  }
}

/** Back to active from paused, degraded or disabled (after a 410), with a closed breaker. */
@CommandHandler(ResumeEndpointCommand)
export class ResumeEndpointHandler implements ICommandHandler<ResumeEndpointCommand> {
  constructor(private readonly endpoints: EndpointRepository) {}

  async execute({ tenantId, endpointId }: ResumeEndpointCommand): Promise<Outcome<EndpointEntity>> {
    const resumed = await this.endpoints.change(tenantId, endpointId, async (endpoint, manager) => {
      if (endpoint.status === 'active') return { value: endpoint, events: [] };
      await manager.query(`UPDATE endpoints SET status = 'active', updated_at = now() WHERE id = $1`, [endpointId]);
      await manager.query(
        `UPDATE endpoint_stats SET breaker_state = 'closed', breaker_failures = 0, breaker_retry_at = NULL, recent_outcomes = ''
         WHERE endpoint_id = $1`,
        [endpointId],
      );
      return {
        value: { ...endpoint, status: 'active' as const },
        events: [{ ...ENDPOINT_EVENTS.EndpointResumed, data: { endpoint_id: endpointId, previous_status: endpoint.status } }],
      };
    });
    return resumed ? { ok: true, value: resumed } : notFound(endpointId);
  }
}

@CommandHandler(SendTestWebhookCommand)
export class SendTestWebhookHandler implements ICommandHandler<SendTestWebhookCommand> {
  constructor(
    private readonly endpoints: EndpointRepository,
    @Inject(TOCSIN_CONFIG) private readonly config: TocsinConfig,
  ) {}

  async execute({ tenantId, endpointId }: SendTestWebhookCommand): Promise<Outcome<{ delivery_id: string }>> {
    const outcome = await this.endpoints.change(tenantId, endpointId, async (endpoint, manager): Promise<{
      value: Outcome<{ delivery_id: string }>;
      events: [];
    }> => {
      if (endpoint.status === 'paused' || endpoint.status === 'disabled') {
        return { value: refuse(409, `endpoint ${endpointId} is ${endpoint.status}; resume it before sending a test`), events: [] };
      }
      // The test webhook's attempts continue the request's trace.
      const delivery = { ...testDelivery(endpoint, this.config.TOCSIN_DASHBOARD_URL), traceparent: traceHeaders().traceparent ?? null };
      await enqueueDeliveries(manager, [delivery]);
      return { value: { ok: true, value: { delivery_id: delivery.id } }, events: [] };
    });
    return outcome ?? notFound(endpointId);
  }
}

/**
 * A new secret signs from now on; the replaced one keeps signing beside it until the
 * overlap ends, so receivers can switch over without rejecting a webhook.
 */
@CommandHandler(RotateEndpointSecretCommand)
export class RotateEndpointSecretHandler implements ICommandHandler<RotateEndpointSecretCommand> {
  constructor(
    private readonly endpoints: EndpointRepository,
    private readonly box: SecretBox,
  ) {}

  async execute({ tenantId, endpointId, body }: RotateEndpointSecretCommand) {
    const current = await this.endpoints.find(tenantId, endpointId);
    if (current && current.type !== 'webhook') {
      return refuse(409, `a ${current.type} endpoint signs nothing: set a new ${CONFIG_KEY[current.type]} with PATCH {config: {${CONFIG_KEY[current.type]}}}`);
    }
    const rotated = await this.endpoints.change(tenantId, endpointId, async (endpoint, manager) => {
      const now = Date.now();
      const expiresAt = new Date(now + body.overlap_seconds * 1000).toISOString();
      // The overlap bounds every older secret too: a rotation without overlap (a leak) retires them all.
      const previous: PreviousSecret[] = [
        ...endpoint.previous_secrets.map((p) => ({ secret: p.secret, expires_at: p.expires_at < expiresAt ? p.expires_at : expiresAt })),
        { secret: endpoint.secret, expires_at: expiresAt },
      ].filter((p) => Date.parse(p.expires_at) > now);
      const secret = generateWebhookSecret();
      await manager.query('UPDATE endpoints SET secret = $2, previous_secrets = $3::jsonb, updated_at = now() WHERE id = $1', [
        endpointId,
        this.box.seal(secret, sealedIn.endpointSecret(endpointId)),
        JSON.stringify(previous),
      ]);
      const data: EndpointSecretRotatedData = { endpoint_id: endpointId, previous_expires_at: expiresAt };
      return { value: { secret, previous_expires_at: expiresAt }, events: [{ ...ENDPOINT_EVENTS.EndpointSecretRotated, data }] };
    });
    return rotated ? { ok: true as const, value: rotated } : notFound(endpointId);
  }
}

/** Failed and skipped deliveries of one endpoint in a time range, counted, or sent again. */
@CommandHandler(ReplayDeliveriesCommand)
export class ReplayDeliveriesHandler implements ICommandHandler<ReplayDeliveriesCommand> {
  constructor(private readonly endpoints: EndpointRepository) {}

  async execute({ tenantId, endpointId, body }: ReplayDeliveriesCommand): Promise<Outcome<{ count: number; dry_run: boolean }>> {
    const counted = await this.endpoints.change<number | 'too_many'>(tenantId, endpointId, async (_endpoint, manager) => {
      const ids = await this.endpoints.deliveriesInRange(tenantId, endpointId, REPLAYABLE_STATUSES, body.from, body.to, MAX_REPLAY_DELIVERIES + 1);
      if (ids.length > MAX_REPLAY_DELIVERIES) return { value: 'too_many' as const, events: [] };
      if (body.dry_run) return { value: ids.length, events: [] };
      const requeued = await requeueDeliveries(manager, tenantId, ids, 'replay', REPLAYABLE_STATUSES);
      const data: ReplayRequestedData = { endpoint_id: endpointId, from: body.from, to: body.to, count: requeued.length };
      return { value: requeued.length, events: requeued.length > 0 ? [{ ...ENDPOINT_EVENTS.ReplayRequested, data }] : [] };
    });
    if (counted === null) return notFound(endpointId);
    if (counted === 'too_many') {
      return refuse(
        400,
        `more than ${MAX_REPLAY_DELIVERIES} failed or skipped deliveries in this range; replay a shorter range in several requests`,
        'to',
      );
    }
    return { ok: true, value: { count: counted, dry_run: body.dry_run } };
  }
}
