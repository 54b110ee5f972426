import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { TenantGuard, TenantId } from '../auth/guards';
import { unwrap } from '../common/http-result';
import { byCreation, listQuerySchema, toPage, type ListQuery } from '../common/pagination';
import { notFound, ResourceIdPipe } from '../common/uuid-param.pipe';
import { ZodValidationPipe } from '../common/zod-validation.pipe';
import { RegisterReceiverCommand, RemoveReceiverCommand } from './commands/receiver.commands';
import { INCOMING_PATH, presentCall, presentReceiver, receiverSecretError } from './receiver.presenter';
import { SecretBox } from '@tocsin/secrets';
import { ReceiverRepository } from './receiver.repository';
import { createReceiverSchema, type CreateReceiverBody } from './receiver.schemas';

const ReceiverId = new ResourceIdPipe('receiver');

@ApiTags('receivers')
@ApiBearerAuth()
@UseGuards(TenantGuard)
@Controller('v1/receivers')
export class ReceiversController {
  constructor(
    private readonly commands: CommandBus,
    private readonly receivers: ReceiverRepository,
    private readonly box: SecretBox,
  ) {}

  private present = (r: Parameters<typeof presentReceiver>[0]) => presentReceiver(r, receiverSecretError(this.box, r));

  @Post()
  @ApiOperation({ summary: 'Create an inbound receiver; the answer holds its token and URL, shown only here' })
  @ApiBody({ schema: z.toJSONSchema(createReceiverSchema, { io: 'input' }) as object })
  async create(@TenantId() tenantId: string, @Body(new ZodValidationPipe(createReceiverSchema)) body: CreateReceiverBody) {
    const { receiver, token } = unwrap(await this.commands.execute(new RegisterReceiverCommand(tenantId, body)));
    return { ...this.present(receiver), token, url: `${INCOMING_PATH}/${token}` };
  }

  @Get()
  @ApiOperation({ summary: "List the tenant's receivers" })
  async list(@TenantId() tenantId: string, @Query(new ZodValidationPipe(listQuerySchema)) query: ListQuery) {
    return toPage(await this.receivers.list(tenantId, query), query.limit, this.present, byCreation);
  }

  @Get(':id')
  @ApiOperation({ summary: 'A receiver (its secret and token are never answered)' })
  async get(@TenantId() tenantId: string, @Param('id', ReceiverId) id: string) {
    const receiver = await this.receivers.find(tenantId, id);
    if (!receiver) throw notFound('receiver', id);
    return this.present(receiver);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a receiver; its URL stops working at once' })
  async remove(@TenantId() tenantId: string, @Param('id', ReceiverId) id: string): Promise<void> {
    unwrap(await this.commands.execute(new RemoveReceiverCommand(tenantId, id)));
  }

  @Get(':id/log')
  @ApiOperation({ summary: 'The last 50 calls of the receiver URL, newest first' })
  async log(@TenantId() tenantId: string, @Param('id', ReceiverId) id: string) {
    const receiver = await this.receivers.find(tenantId, id);
    if (!receiver) throw notFound('receiver', id);
    const calls = await this.receivers.log(tenantId, id);
    return { data: calls.map(presentCall), next_cursor: null };
  }
}
