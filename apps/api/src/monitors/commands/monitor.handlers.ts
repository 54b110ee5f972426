import { randomUUID } from 'node:crypto';
import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { TocsinConfig } from '@tocsin/config';
import type { MonitorEntity } from '@tocsin/database';
import { TOCSIN_CONFIG } from '@tocsin/runtime';
import { refuse, type Outcome, type Refusal } from '../../common/result';
import { checkTargetUrl } from '../../common/url-policy';
import { MonitorRepository } from '../monitor.repository';
import { RegisterMonitorCommand, RemoveMonitorCommand, UpdateMonitorCommand } from './monitor.commands';

function checkPolicy(config: TocsinConfig, changes: { url?: string | undefined; interval_seconds?: number | undefined }): Refusal | null {
  if (changes.interval_seconds !== undefined && changes.interval_seconds < config.TOCSIN_MIN_INTERVAL_SECONDS) {
    return refuse(400, `must be at least ${config.TOCSIN_MIN_INTERVAL_SECONDS} on this deployment`, 'interval_seconds');
  }
  return changes.url ? checkTargetUrl(changes.url, config.TOCSIN_ALLOW_PRIVATE_URLS) : null;
}

@CommandHandler(RegisterMonitorCommand)
export class RegisterMonitorHandler implements ICommandHandler<RegisterMonitorCommand> {
  constructor(
    private readonly monitors: MonitorRepository,
    @Inject(TOCSIN_CONFIG) private readonly config: TocsinConfig,
  ) {}

  async execute({ tenantId, body }: RegisterMonitorCommand): Promise<Outcome<MonitorEntity>> {
    const refused = checkPolicy(this.config, body);
    if (refused) return refused;
    if (await this.monitors.slugTaken(tenantId, body.slug)) return refuse(409, 'a monitor with this slug exists', 'slug');
    return { ok: true, value: await this.monitors.insert({ id: randomUUID(), tenant_id: tenantId, ...body }) };
  }
}

@CommandHandler(UpdateMonitorCommand)
export class UpdateMonitorHandler implements ICommandHandler<UpdateMonitorCommand> {
  constructor(
    private readonly monitors: MonitorRepository,
    @Inject(TOCSIN_CONFIG) private readonly config: TocsinConfig,
  ) {}

  async execute({ tenantId, monitorId, changes }: UpdateMonitorCommand): Promise<Outcome<MonitorEntity>> {
    const refused = checkPolicy(this.config, changes);
    if (refused) return refused;
    const updated = await this.monitors.update(tenantId, monitorId, changes);
    return updated ? { ok: true, value: updated } : refuse(404, `monitor ${monitorId} not found`);
  }
}

@CommandHandler(RemoveMonitorCommand)
export class RemoveMonitorHandler implements ICommandHandler<RemoveMonitorCommand> {
  constructor(private readonly monitors: MonitorRepository) {}

  async execute({ tenantId, monitorId }: RemoveMonitorCommand): Promise<Outcome<true>> {
    return (await this.monitors.remove(tenantId, monitorId)) ? { ok: true, value: true } : refuse(404, `monitor ${monitorId} not found`);
  }
}
