import { randomUUID } from 'node:crypto';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { DataSource } from 'typeorm';
import { ApiKeyEntity, TenantEntity } from '@tocsin/database';
import { generateApiKey, hashApiKey } from '../../auth/api-key';
import { CreateTenantCommand, IssueApiKeyCommand } from './create-tenant.command';

@CommandHandler(CreateTenantCommand)
export class CreateTenantHandler implements ICommandHandler<CreateTenantCommand> {
  constructor(private readonly dataSource: DataSource) {}

  execute({ name }: CreateTenantCommand): Promise<TenantEntity> {
    return this.dataSource.getRepository(TenantEntity).save({ id: randomUUID(), name });
  }
}

@CommandHandler(IssueApiKeyCommand)
export class IssueApiKeyHandler implements ICommandHandler<IssueApiKeyCommand> {
  constructor(private readonly dataSource: DataSource) {}

  async execute({ tenantId }: IssueApiKeyCommand): Promise<{ id: string; key: string } | null> {
    if (!(await this.dataSource.getRepository(TenantEntity).existsBy({ id: tenantId }))) return null;
    const key = generateApiKey();
    const id = randomUUID();
    await this.dataSource
      .getRepository(ApiKeyEntity)
      .insert({ id, tenant_id: tenantId, key_hash: hashApiKey(key), prefix: key.slice(0, 8) });
    return { id, key };
  }
}
