import { randomUUID } from 'node:crypto';
import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { TocsinConfig } from '@tocsin/config';
import type { EndpointEntity } from '@tocsin/database';
import { TOCSIN_CONFIG } from '@tocsin/runtime';
import { generateWebhookSecret } from '@tocsin/signing';
import { refuse, type Outcome } from '../../common/result';
import { checkTargetUrl } from '../../common/url-policy';
import { EndpointRepository } from '../endpoint.repository';
import type { CreateEndpointBody, UpdateEndpointBody } from '../endpoint.schemas';

export class RegisterEndpointCommand extends Command<Outcome<EndpointEntity>> {
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

@CommandHandler(RegisterEndpointCommand)
export class RegisterEndpointHandler implements ICommandHandler<RegisterEndpointCommand> {
  constructor(
    private readonly endpoints: EndpointRepository,
    @Inject(TOCSIN_CONFIG) private readonly config: TocsinConfig,
  ) {}

  async execute({ tenantId, body }: RegisterEndpointCommand): Promise<Outcome<EndpointEntity>> {
    const refused = checkTargetUrl(body.url, this.config.TOCSIN_ALLOW_PRIVATE_URLS);
    if (refused) return refused;
    const endpoint = await this.endpoints.insert({
      id: randomUUID(),
      tenant_id: tenantId,
      ...body,
      secret: body.secret ?? generateWebhookSecret(),
      status: 'active',
    });
    return { ok: true, value: endpoint };
  }
}

@CommandHandler(UpdateEndpointCommand)
export class UpdateEndpointHandler implements ICommandHandler<UpdateEndpointCommand> {
  constructor(
    private readonly endpoints: EndpointRepository,
    @Inject(TOCSIN_CONFIG) private readonly config: TocsinConfig,
  ) {}

  async execute({ tenantId, endpointId, changes }: UpdateEndpointCommand): Promise<Outcome<EndpointEntity>> {
    const refused = changes.url ? checkTargetUrl(changes.url, this.config.TOCSIN_ALLOW_PRIVATE_URLS) : null;
    if (refused) return refused;
    const updated = await this.endpoints.update(tenantId, endpointId, changes);
    return updated ? { ok: true, value: updated } : refuse(404, `endpoint ${endpointId} not found`);
  }
}

@CommandHandler(RemoveEndpointCommand)
export class RemoveEndpointHandler implements ICommandHandler<RemoveEndpointCommand> {
  constructor(private readonly endpoints: EndpointRepository) {}

  async execute({ tenantId, endpointId }: RemoveEndpointCommand): Promise<Outcome<true>> {
    return (await this.endpoints.remove(tenantId, endpointId))
      ? { ok: true, value: true }
      : refuse(404, `endpoint ${endpointId} not found`);
  }
}
