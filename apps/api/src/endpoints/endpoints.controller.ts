import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, UseGuards } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiBody, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { TenantGuard, TenantId } from '../auth/guards';
import { unwrap } from '../common/http-result';
import { byCreation, listQuerySchema, toPage, type ListQuery } from '../common/pagination';
import { notFound, ResourceIdPipe } from '../common/uuid-param.pipe';
import { ZodValidationPipe } from '../common/zod-validation.pipe';
import { RegisterEndpointCommand, RemoveEndpointCommand, UpdateEndpointCommand } from './commands/endpoint.commands';
import { presentDelivery, presentEndpoint } from './endpoint.presenter';
import { EndpointRepository } from './endpoint.repository';
import { createEndpointSchema, updateEndpointSchema, type CreateEndpointBody, type UpdateEndpointBody } from './endpoint.schemas';

const EndpointId = new ResourceIdPipe('endpoint');

@ApiTags('endpoints')
@ApiBearerAuth()
@UseGuards(TenantGuard)
@Controller('v1/endpoints')
export class EndpointsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly endpoints: EndpointRepository,
  ) {}

  /** The only answer, with GET :id/secret, that carries the signing secret. */
  @Post()
  @ApiBody({ schema: z.toJSONSchema(createEndpointSchema, { io: 'input' }) as object })
  async create(@TenantId() tenantId: string, @Body(new ZodValidationPipe(createEndpointSchema)) body: CreateEndpointBody) {
    const endpoint = unwrap(await this.commands.execute(new RegisterEndpointCommand(tenantId, body)));
    return { ...presentEndpoint(endpoint), secret: endpoint.secret };
  }

  @Get()
  async list(@TenantId() tenantId: string, @Query(new ZodValidationPipe(listQuerySchema)) query: ListQuery) {
    return toPage(await this.endpoints.list(tenantId, query), query.limit, presentEndpoint, byCreation);
  }

  @Get(':id')
  async get(@TenantId() tenantId: string, @Param('id', EndpointId) id: string) {
    const endpoint = await this.endpoints.find(tenantId, id);
    if (!endpoint) throw notFound('endpoint', id);
    return { ...presentEndpoint(endpoint), stats: await this.endpoints.stats(tenantId, id) };
  }

  @Get(':id/secret')
  async secret(@TenantId() tenantId: string, @Param('id', EndpointId) id: string) {
    const endpoint = await this.endpoints.find(tenantId, id);
    if (!endpoint) throw notFound('endpoint', id);
    return { secret: endpoint.secret };
  }

  @Patch(':id')
  @ApiBody({ schema: z.toJSONSchema(updateEndpointSchema, { io: 'input' }) as object })
  async update(
    @TenantId() tenantId: string,
    @Param('id', EndpointId) id: string,
    @Body(new ZodValidationPipe(updateEndpointSchema)) body: UpdateEndpointBody,
  ) {
    return presentEndpoint(unwrap(await this.commands.execute(new UpdateEndpointCommand(tenantId, id, body))));
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
    @Query(new ZodValidationPipe(listQuerySchema)) query: ListQuery,
  ) {
    if (!(await this.endpoints.find(tenantId, id))) throw notFound('endpoint', id);
    return toPage(await this.endpoints.deliveries(tenantId, id, query), query.limit, presentDelivery, byCreation);
  }
}
