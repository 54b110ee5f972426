import { Command } from '@nestjs/cqrs';
import type { MonitorEntity } from '@tocsin/database';
import type { Outcome } from '../../common/result';
import type { CreateMonitorBody, UpdateMonitorBody } from '../monitor.schemas';

export class RegisterMonitorCommand extends Command<Outcome<MonitorEntity>> {
  constructor(readonly tenantId: string, readonly body: CreateMonitorBody) {
    super();
  }
}

export class UpdateMonitorCommand extends Command<Outcome<MonitorEntity>> {
  constructor(readonly tenantId: string, readonly monitorId: string, readonly changes: UpdateMonitorBody) {
    super();
  }
}

export class RemoveMonitorCommand extends Command<Outcome<true>> {
  constructor(readonly tenantId: string, readonly monitorId: string) {
    super();
  }
}
