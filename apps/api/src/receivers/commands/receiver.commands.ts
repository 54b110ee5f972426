import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { ReceiverEntity } from '@tocsin/database';
import { sealedIn, SecretBox } from '@tocsin/secrets';
import { refuse, type Outcome } from '../../common/result';
import { normaliseMapping } from '../inbound-mapping';
import type { CreateReceiverBody } from '../receiver.schemas';
import { Quotas } from '../../tenants/quotas';
import { ReceiverRepository } from '../receiver.repository';

/** 48 random bytes as base64url: 64 characters nobody can guess. */
export function generateReceiverToken(): string {
  return randomBytes(48).toString('base64url');
}

/** Tokens are stored as SHA-256 digests, like API keys; the plain token is shown once. */
export function hashReceiverToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export interface RegisteredReceiver {
  readonly receiver: ReceiverEntity;
  readonly token: string;
}

export class RegisterReceiverCommand extends Command<Outcome<RegisteredReceiver>> {
  constructor(readonly tenantId: string, readonly body: CreateReceiverBody) {
    super();
  }
}

export class RemoveReceiverCommand extends Command<Outcome<true>> {
  constructor(readonly tenantId: string, readonly receiverId: string) {
    super();
  }
}

@CommandHandler(RegisterReceiverCommand)
export class RegisterReceiverHandler implements ICommandHandler<RegisterReceiverCommand> {
  constructor(
    private readonly receivers: ReceiverRepository,
    private readonly secrets: SecretBox,
    private readonly quotas: Quotas,
  ) {}

  async execute({ tenantId, body }: RegisterReceiverCommand): Promise<Outcome<RegisteredReceiver>> {
    const overQuota = await this.quotas.refusal(tenantId, 'receivers');
    if (overQuota) return overQuota;
    if (body.monitor_id && !(await this.receivers.monitorExists(tenantId, body.monitor_id))) {
      return refuse(404, `monitor ${body.monitor_id} not found`, 'monitor_id');
    }
    const token = generateReceiverToken();
    const id = randomUUID();
    const receiver = await this.receivers.insert({
      id,
      tenant_id: tenantId,
      name: body.name,
      monitor_id: body.monitor_id ?? null,
      status_field: body.status_field,
      service_field: body.service_field ?? null,
      message_field: body.message_field ?? null,
      mapping: normaliseMapping(body.mapping),
      secret: body.secret === undefined ? null : this.secrets.seal(body.secret, sealedIn.receiverSecret(id)),
      signature_header: body.signature_header,
      token_hash: hashReceiverToken(token),
      token_prefix: token.slice(0, 8),
    });
    return { ok: true, value: { receiver, token } };
  }
}

@CommandHandler(RemoveReceiverCommand)
export class RemoveReceiverHandler implements ICommandHandler<RemoveReceiverCommand> {
  constructor(private readonly receivers: ReceiverRepository) {}

  async execute({ tenantId, receiverId }: RemoveReceiverCommand): Promise<Outcome<true>> {
    return (await this.receivers.remove(tenantId, receiverId))
      ? { ok: true, value: true }
      : refuse(404, `receiver ${receiverId} not found`);
  }
}
