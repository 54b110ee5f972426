import { randomUUID } from 'node:crypto';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { DataSource, IsNull } from 'typeorm';
import { ApiKeyEntity, TenantEntity } from '@tocsin/database';
import { generateApiKey, hashApiKey } from '../../auth/api-key';
import { TenantScope } from '../tenant-scope';
import {
  CreateTenantCommand,
  IssueApiKeyCommand,
  RevokeApiKeyCommand,
  RotateApiKeyCommand,
  type IssuedApiKey,
} from './create-tenant.command';

/** Shown in lists to tell keys apart: the `tsk_` marker and the first characters of the secret part. */
const PREFIX_LENGTH = 12;

function newKey(tenantId: string): { row: Omit<ApiKeyEntity, 'created_at'>; issued: IssuedApiKey } {
  const key = generateApiKey();
  const id = randomUUID();
  const prefix = key.slice(0, PREFIX_LENGTH);
  return { row: { id, tenant_id: tenantId, key_hash: hashApiKey(key), prefix, revoked_at: null }, issued: { id, tenant_id: tenantId, key, prefix } };
}

@CommandHandler(CreateTenantCommand)
export class CreateTenantHandler implements ICommandHandler<CreateTenantCommand> {
  constructor(private readonly dataSource: DataSource) {}

  execute({ name }: CreateTenantCommand): Promise<TenantEntity> {
    return this.dataSource.getRepository(TenantEntity).save({ id: randomUUID(), name });
  }
}

/** Used by the admin route (any tenant, by id) and by a tenant for itself. */
@CommandHandler(IssueApiKeyCommand)
export class IssueApiKeyHandler implements ICommandHandler<IssueApiKeyCommand> {
  constructor(private readonly dataSource: DataSource) {}

  async execute({ tenantId }: IssueApiKeyCommand): Promise<IssuedApiKey | null> {
    if (!(await this.dataSource.getRepository(TenantEntity).existsBy({ id: tenantId }))) return null;
    const { row, issued } = newKey(tenantId);
    await this.dataSource.getRepository(ApiKeyEntity).insert(row);
    return issued;
  }
}

@CommandHandler(RevokeApiKeyCommand)
export class RevokeApiKeyHandler implements ICommandHandler<RevokeApiKeyCommand> {
  constructor(private readonly scope: TenantScope) {}

  async execute({ tenantId, keyId }: RevokeApiKeyCommand): Promise<boolean> {
    const keys = this.scope.repository(ApiKeyEntity, tenantId);
    return (await keys.update({ id: keyId, revoked_at: IsNull() }, { revoked_at: new Date() })) > 0;
  }
}

@CommandHandler(RotateApiKeyCommand)
export class RotateApiKeyHandler implements ICommandHandler<RotateApiKeyCommand> {
  constructor(private readonly scope: TenantScope) {}

  /** The new key exists before the old one stops working, so a crash between leaves two keys, never none. */
  async execute({ tenantId, keyId }: RotateApiKeyCommand): Promise<IssuedApiKey | null> {
    const keys = this.scope.repository(ApiKeyEntity, tenantId);
    if (!(await keys.existsBy({ id: keyId, revoked_at: IsNull() }))) return null;
    const { row, issued } = newKey(tenantId);
    await keys.insert(row);
    await keys.update({ id: keyId, revoked_at: IsNull() }, { revoked_at: new Date() });
    return issued;
  }
}
