import { Command } from '@nestjs/cqrs';
import type { TenantEntity } from '@tocsin/database';

export class CreateTenantCommand extends Command<TenantEntity> {
  constructor(readonly name: string) {
    super();
  }
}

export interface IssuedApiKey {
  readonly id: string;
  readonly tenant_id: string;
  readonly key: string;
  readonly prefix: string;
}

export class IssueApiKeyCommand extends Command<IssuedApiKey | null> {
  constructor(readonly tenantId: string) {
    super();
  }
}

/** Answers false when the tenant has no such live key. */
export class RevokeApiKeyCommand extends Command<boolean> {
  constructor(
    readonly tenantId: string,
    readonly keyId: string,
  ) {
    super();
  }
}

/** Issues a new key and revokes the old one; null when the tenant has no such live key. */
export class RotateApiKeyCommand extends Command<IssuedApiKey | null> {
  constructor(
    readonly tenantId: string,
    readonly keyId: string,
  ) {
    super();
  }
}
