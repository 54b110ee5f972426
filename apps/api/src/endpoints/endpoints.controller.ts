import { Body, ConflictException, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, UseGuards } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiBody, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { TenantGuard, TenantId } from '../auth/guards';
import { unwrap } from '../common/http-result';
import { byCreation, listQuerySchema, toPage, type ListQuery } from '../common/pagination';
import { notFound, ResourceIdPipe } from '../common/uuid-param.pipe';
import { ZodValidationPipe } from '../common/zod-validation.pipe';
import { SecretBox } from '@tocsin/secrets';
import { endpointHeaders, openSecret } from '@tocsin/delivery-queue';
import type { EndpointEntity } from '@tocsin/database';
import {
  PauseEndpointCommand,
  RegisterEndpointCommand,
  RemoveEndpointCommand,
  ReplayDeliveriesCommand,
  ResumeEndpointCommand,
  RotateEndpointSecretCommand,
  SendTestWebhookCommand,
  UpdateEndpointCommand,
} from './commands/endpoint.commands';
import { endpointSecretError, presentDelivery, presentEndpoint } from './endpoint.presenter';
import { EndpointRepository } from './endpoint.repository';
import {
  createEndpointSchema,
  deliveryListQuerySchema,
  replaySchema,
  rotateSecretSchema,
  updateEndpointSchema,
  type CreateEndpointBody,
  type DeliveryListQuery,
  type ReplayBody,
  type RotateSecretBody,
  type UpdateEndpointBody,
} from './endpoint.schemas';

const EndpointId = new ResourceIdPipe('endpoint');

@ApiTags('endpoints')
@ApiBearerAuth()
@UseGuards(TenantGuard)
@Controller('v1/endpoints')
export class EndpointsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly endpoints: EndpointRepository,
    private readonly box: SecretBox,
  ) {}

  private async present(tenantId: string, endpoint: EndpointEntity) {
    const health = await this.endpoints.health(tenantId, [endpoint.id]);
    return presentEndpoint(endpoint, health.get(endpoint.id)!, endpointSecretError(this.box, endpoint));
  }

  /**
   * The only answer, with GET :id/secret, that carries the signing secret and the headers'
   * values. A PagerDuty routing key or a Slack webhook URL is not echoed back: the caller just sent it.
   */
  @Post()
  @ApiBody({ schema: z.toJSONSchema(createEndpointSchema, { io: 'input' }) as object })
  async create(@TenantId() tenantId: string, @Body(new ZodValidationPipe(createEndpointSchema)) body: CreateEndpointBody) {
    const { endpoint, secret } = unwrap(await this.commands.execute(new RegisterEndpointCommand(tenantId, body)));
    return { ...(await this.present(tenantId, endpoint)), headers: body.headers, ...(endpoint.type === 'webhook' ? { secret } : {}) };
  }

  @Get()
  async list(@TenantId() tenantId: string, @Query(new ZodValidationPipe(listQuerySchema)) query: ListQuery) {
    const rows = await this.endpoints.list(tenantId, query);
    const health = await this.endpoints.health(tenantId, rows.map((e) => e.id));
    return toPage(rows, query.limit, (e) => presentEndpoint(e, health.get(e.id)!, endpointSecretError(this.box, e)), byCreation);
  }

  @Get(':id')
  async get(@TenantId() tenantId: string, @Param('id', EndpointId) id: string) {
    const endpoint = await this.endpoints.find(tenantId, id);
    if (!endpoint) throw notFound('endpoint', id);
    return this.present(tenantId, endpoint);
  }

  /** The signing secret and the headers' values; 409 `secret_unreadable` when they cannot be opened. */
  @Get(':id/secret')
  async secret(@TenantId() tenantId: string, @Param('id', EndpointId) id: string) {
    const endpoint = await this.endpoints.find(tenantId, id);
    if (!endpoint) throw notFound('endpoint', id);
    if (endpointSecretError(this.box, endpoint) !== null) {
      throw new ConflictException({
        message: `endpoint ${id}: its secret or headers cannot be opened with the configured encryption keys; rotate the secret and set the headers again`,
        details: { error_class: 'secret_unreadable' },
      });
    }
    return { secret: openSecret(this.box, endpoint.id, endpoint.secret), headers: endpointHeaders(this.box, endpoint) };
  }

  @Patch(':id')
  @ApiBody({ schema: z.toJSONSchema(updateEndpointSchema, { io: 'input' }) as object })
  async update(
    @TenantId() tenantId: string,
    @Param('id', EndpointId) id: string,
    @Body(new ZodValidationPipe(updateEndpointSchema)) body: UpdateEndpointBody,
  ) {
    return this.present(tenantId, unwrap(await this.commands.execute(new UpdateEndpointCommand(tenantId, id, body))));
  }

  @Delete(':id')
  @HttpCode(204)
  async remove(@TenantId() tenantId: string, @Param('id', EndpointId) id: string): Promise<void> {
    unwrap(await this.commands.execute(new RemoveEndpointCommand(tenantId, id)));
  }

  @Get(':id/deliveries')
  async deliveries(
    @TenantId() tenantId: string,
    @Param('id', EndpointId) id: string,
    @Query(new ZodValidationPipe(deliveryListQuerySchema)) query: DeliveryListQuery,
  ) {
    if (!(await this.endpoints.find(tenantId, id))) throw notFound('endpoint', id);
    return toPage(await this.endpoints.deliveries(tenantId, id, query), query.limit, presentDelivery, byCreation);
  }

  @Post(':id/pause')
  @HttpCode(200)
  async pause(@TenantId() tenantId: string, @Param('id', EndpointId) id: string) {
    return this.present(tenantId, unwrap(await this.commands.execute(new PauseEndpointCommand(tenantId, id))));
  }

  @Post(':id/resume')
  @HttpCode(200)
  async resume(@TenantId() tenantId: string, @Param('id', EndpointId) id: string) {
    return this.present(tenantId, unwrap(await this.commands.execute(new ResumeEndpointCommand(tenantId, id))));
  }

  /** 202: a webhook.test delivery is queued; follow it on GET /v1/deliveries/:delivery_id. */
  @Post(':id/test')
  @HttpCode(202)
  async test(@TenantId() tenantId: string, @Param('id', EndpointId) id: string) {
    return unwrap(await this.commands.execute(new SendTestWebhookCommand(tenantId, id)));
  }

  /** The new secret is shown here, once more on GET :id/secret, and nowhere else. */
  @Post(':id/rotate-secret')
  @HttpCode(200)
  @ApiBody({ schema: z.toJSONSchema(rotateSecretSchema, { io: 'input' }) as object, required: false })
  async rotateSecret(
    @TenantId() tenantId: string,
    @Param('id', EndpointId) id: string,
    @Body(new ZodValidationPipe(rotateSecretSchema)) body: RotateSecretBody,
  ) {
    return unwrap(await this.commands.execute(new RotateEndpointSecretCommand(tenantId, id, body)));
  }

  /** Failed and skipped deliveries created in [from, to): `dry_run` counts them, otherwise they are sent again. */
  @Post(':id/replay')
  @HttpCode(200)
  @ApiBody({ schema: z.toJSONSchema(replaySchema, { io: 'input' }) as object })
  async replay(
    @TenantId() tenantId: string,
    @Param('id', EndpointId) id: string,
    @Body(new ZodValidationPipe(replaySchema)) body: ReplayBody,
  ) {
    return unwrap(await this.commands.execute(new ReplayDeliveriesCommand(tenantId, id, body)));
  }
}
