import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, UseGuards } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiBody, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { TenantGuard, TenantId } from '../auth/guards';
import { unwrap } from '../common/http-result';
import { byCreation, listQuerySchema, toPage, type ListQuery } from '../common/pagination';
import { notFound, ResourceIdPipe } from '../common/uuid-param.pipe';
import { ZodValidationPipe } from '../common/zod-validation.pipe';
import { RegisterMonitorCommand, RemoveMonitorCommand, UpdateMonitorCommand } from './commands/monitor.commands';
import { presentMonitor, presentStatus } from './monitor.presenter';
import { MonitorRepository } from './monitor.repository';
import { createMonitorSchema, updateMonitorSchema, type CreateMonitorBody, type UpdateMonitorBody } from './monitor.schemas';

const MonitorId = new ResourceIdPipe('monitor');

@ApiTags('monitors')
@ApiBearerAuth()
@UseGuards(TenantGuard)
@Controller('v1/monitors')
export class MonitorsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly monitors: MonitorRepository,
  ) {}

  @Post()
  @ApiBody({ schema: z.toJSONSchema(createMonitorSchema, { io: 'input' }) as object })
  async create(@TenantId() tenantId: string, @Body(new ZodValidationPipe(createMonitorSchema)) body: CreateMonitorBody) {
    return presentMonitor(unwrap(await this.commands.execute(new RegisterMonitorCommand(tenantId, body))));
  }

  @Get()
  async list(@TenantId() tenantId: string, @Query(new ZodValidationPipe(listQuerySchema)) query: ListQuery) {
    return toPage(await this.monitors.list(tenantId, query), query.limit, presentMonitor, byCreation);
  }

  @Get(':id')
  async get(@TenantId() tenantId: string, @Param('id', MonitorId) id: string) {
    const monitor = await this.monitors.find(tenantId, id);
    if (!monitor) throw notFound('monitor', id);
    return presentMonitor(monitor);
  }

  @Patch(':id')
  @ApiBody({ schema: z.toJSONSchema(updateMonitorSchema, { io: 'input' }) as object })
  async update(
    @TenantId() tenantId: string,
    @Param('id', MonitorId) id: string,
    @Body(new ZodValidationPipe(updateMonitorSchema)) body: UpdateMonitorBody,
  ) {
    return presentMonitor(unwrap(await this.commands.execute(new UpdateMonitorCommand(tenantId, id, body))));
  }

  @Delete(':id')
  @HttpCode(204)
  async remove(@TenantId() tenantId: string, @Param('id', MonitorId) id: string): Promise<void> {
    unwrap(await this.commands.execute(new RemoveMonitorCommand(tenantId, id)));
  }

  @Get(':id/status')
  async status(@TenantId() tenantId: string, @Param('id', MonitorId) id: string) {
    const monitor = await this.monitors.find(tenantId, id);
    if (!monitor) throw notFound('monitor', id);
    const [state, open, window] = await Promise.all([
      this.monitors.state(tenantId, id),
      this.monitors.openIncident(tenantId, id),
      this.monitors.activeMaintenance(tenantId, id),
    ]);
    return presentStatus(monitor, state, open, window);
  }
}
