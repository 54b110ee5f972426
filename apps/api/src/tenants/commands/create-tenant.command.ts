import { Command } from '@nestjs/cqrs';
import type { TenantEntity } from '@tocsin/database';

export class CreateTenantCommand extends Command<TenantEntity> {
  constructor(readonly name: string) {
    super();
  }
}

export class IssueApiKeyCommand extends Command<{ id: string; key: string } | null> {
  constructor(readonly tenantId: string) {
    super();
  }
}
