import { randomUUID } from 'node:crypto';
import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { TocsinConfig } from '@tocsin/config';
import type { MonitorEntity } from '@tocsin/database';
import { TOCSIN_CONFIG } from '@tocsin/runtime';
import { sealedIn, SecretBox } from '@tocsin/secrets';
import { refuse, type Outcome, type Refusal } from '../../common/result';
import { checkTargetUrl } from '../../common/url-policy';
import { MonitorRepository } from '../monitor.repository';
import { Quotas } from '../../tenants/quotas';
import { RegisterMonitorCommand, RemoveMonitorCommand, UpdateMonitorCommand } from './monitor.commands';

function checkPolicy(config: TocsinConfig, changes: { url?: string | undefined; interval_seconds?: number | undefined }): Refusal | null {
  if (changes.interval_seconds !== undefined && changes.interval_seconds < config.TOCSIN_MIN_INTERVAL_SECONDS) {
    return refuse(400, `must be at least ${config.TOCSIN_MIN_INTERVAL_SECONDS} on this deployment`, 'interval_seconds');
  }
  return changes.url ? checkTargetUrl(changes.url, config) : null;
}

/** Headers (often a bearer token) are stored sealed; only their names stay readable. */
function sealHeaders(
  box: SecretBox,
  monitorId: string,
  headers: Record<string, string>,
): Pick<MonitorEntity, 'headers' | 'sealed_headers' | 'header_names'> {
  const names = Object.keys(headers).sort();
  return { headers: {}, header_names: names, sealed_headers: names.length > 0 ? box.sealJson(headers, sealedIn.monitorHeaders(monitorId)) : null };
}

@CommandHandler(RegisterMonitorCommand)
export class RegisterMonitorHandler implements ICommandHandler<RegisterMonitorCommand> {
  constructor(
    private readonly monitors: MonitorRepository,
    @Inject(TOCSIN_CONFIG) private readonly config: TocsinConfig,
    private readonly box: SecretBox,
    private readonly quotas: Quotas,
  ) {}

  async execute({ tenantId, body }: RegisterMonitorCommand): Promise<Outcome<MonitorEntity>> {
    const refused = checkPolicy(this.config, body) ?? (await this.quotas.refusal(tenantId, 'monitors'));
    if (refused) return refused;
    if (await this.monitors.slugTaken(tenantId, body.slug)) return refuse(409, 'a monitor with this slug exists', 'slug');
    const id = randomUUID();
    const monitor = {
      id,
      tenant_id: tenantId,
      ...body,
      ...sealHeaders(this.box, id, body.headers),
      mcp_generation: null,
      protocol_version: null,
      tools_count: null,
    };
    return { ok: true, value: await this.monitors.insert(monitor) };
  }
}

@CommandHandler(UpdateMonitorCommand)
export class UpdateMonitorHandler implements ICommandHandler<UpdateMonitorCommand> {
  constructor(
    private readonly monitors: MonitorRepository,
    @Inject(TOCSIN_CONFIG) private readonly config: TocsinConfig,
    private readonly box: SecretBox,
  ) {}

  async execute({ tenantId, monitorId, changes }: UpdateMonitorCommand): Promise<Outcome<MonitorEntity>> {
    const refused = checkPolicy(this.config, changes);
    if (refused) return refused;
    const { headers, ...rest } = changes;
    const sealed = headers === undefined ? {} : sealHeaders(this.box, monitorId, headers);
    // A new URL may be a server of the other generation: forget what probing learned.
    const relearn = changes.url === undefined ? {} : { mcp_generation: null, protocol_version: null, tools_count: null };
    const updated = await this.monitors.update(tenantId, monitorId, { ...rest, ...sealed, ...relearn });
    if (updated && (changes.url !== undefined || changes.interval_seconds !== undefined)) {
      await this.monitors.probeSoon(tenantId, monitorId);
    }
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
