import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { HEADERS, monitorKey, PROBE_RESULT_SCHEMA, storableText, type ProbeResult } from '@tocsin/contracts';
import type { ReceiverEntity } from '@tocsin/database';
import { KafkaProducerService } from '@tocsin/kafka';
import { sealedIn, SecretBox, SecretUnreadableError } from '@tocsin/secrets';
import {
  checkSignature,
  fieldText,
  mapStatus,
  probeOutcome,
  readDotPath,
  type ReceiverStatus,
} from '../inbound-mapping';
import { ReceiverRepository, type NewReceiverCall } from '../receiver.repository';
import { ReceiveStatusWebhookCommand, type IncomingAnswer, type IncomingCall } from './receive-status-webhook.command';
import { TenantContext } from '../../tenants/tenant-context';
import { hashReceiverToken } from './receiver.commands';

const TOKEN = /^[A-Za-z0-9_-]{64}$/;
/** Bodies up to this size are kept whole in the log; larger ones are cut (the log is for reading). */
const LOGGED_PAYLOAD_CHARS = 16_384;

function loggedPayload(call: IncomingCall): string | null {
  if (call.rawBody === undefined) return null;
  const text = call.rawBody.toString('utf8');
  if (text.length <= LOGGED_PAYLOAD_CHARS && call.body !== undefined && typeof call.body === 'object') {
    try {
      return JSON.stringify(call.body);
    } catch {
      // Nesting too deep to serialise again: the head of the raw text below is kept instead.
    }
  }
  return JSON.stringify({ truncated: true, bytes: call.rawBody.length, head: text.slice(0, 1024) });
}

function header(call: IncomingCall, name: string): string | undefined {
  const value = call.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * A sender's status webhook: find the receiver by its token, check the signature over the
 * raw body, read and map the status, and put a ProbeResult (`source: receiver`) on the probe
 * topic. Every call that reaches a receiver leaves one row in its log, whatever the outcome.
 */
@CommandHandler(ReceiveStatusWebhookCommand)
export class ReceiveStatusWebhookHandler implements ICommandHandler<ReceiveStatusWebhookCommand> {
  private readonly logger = new Logger(ReceiveStatusWebhookHandler.name);

  constructor(
    private readonly receivers: ReceiverRepository,
    private readonly secrets: SecretBox,
    private readonly producer: KafkaProducerService,
  ) {}

  async execute({ call }: ReceiveStatusWebhookCommand): Promise<IncomingAnswer> {
    const receiver = TOKEN.test(call.token) ? await this.receivers.findByTokenHash(hashReceiverToken(call.token)) : null;
    if (!receiver) return { status: 404, message: 'no receiver has this URL' };
    // The token named the tenant: everything after this acts for it, through its tenant scope.
    return TenantContext.run(receiver.tenant_id, () => this.receive(receiver, call));
  }

  private async receive(receiver: ReceiverEntity, call: IncomingCall): Promise<IncomingAnswer> {

    const base: NewReceiverCall = {
      received_at: new Date(),
      source_ip: call.sourceIp === null ? null : storableText(call.sourceIp, 100),
      payload: loggedPayload(call),
      result: 'failed',
      reason: null,
      monitor_id: null,
      raw_status: null,
      mapped_status: null,
      event_id: null,
    };
    const refuse = async (status: 400 | 401 | 415 | 503, result: 'failed' | 'auth_failed', reason: string, extra: Partial<NewReceiverCall> = {}) => {
      await this.receivers.recordCall(receiver, { ...base, ...extra, result, reason });
      return { status, message: reason } as const;
    };

    // Only JSON bodies keep their raw bytes, so the media type is settled before the signature.
    if (call.rawBody === undefined) return refuse(415, 'failed', 'send the status as a JSON body (content-type: application/json)');
    if (receiver.secret !== null) {
      let secret: string;
      try {
        secret = this.secrets.open(receiver.secret, sealedIn.receiverSecret(receiver.id));
      } catch (err) {
        if (!(err instanceof SecretUnreadableError)) throw err;
        // The sender did nothing wrong and can retry once an operator sets the secret again: a 503 for this receiver alone.
        this.logger.warn(`receiver ${receiver.id} (tenant ${receiver.tenant_id}): secret_unreadable: ${err.message}`);
        await this.receivers.recordCall(receiver, { ...base, result: 'failed', reason: 'secret_unreadable: the receiver\'s secret cannot be opened' });
        return { status: 503, message: 'this receiver\'s secret cannot be opened (secret_unreadable); its owner must create the receiver again', errorClass: 'secret_unreadable' };
      }
      const checked = checkSignature(secret, call.rawBody, header(call, receiver.signature_header));
      if (!checked.ok) return refuse(401, 'auth_failed', `${receiver.signature_header}: ${checked.reason}`);
    }
    if (call.body === null || typeof call.body !== 'object') return refuse(400, 'failed', 'the body must be a JSON object or array');

    const rawValue = fieldText(readDotPath(call.body, receiver.status_field));
    if (rawValue === undefined) return refuse(400, 'failed', `${receiver.status_field}: no status at this path in the body`);
    const rawStatus = storableText(rawValue, 200);
    const mapped = mapStatus(rawStatus, receiver.mapping as Record<string, ReceiverStatus>);

    const monitor = await this.resolveMonitor(receiver, call.body);
    if (!monitor.ok) return refuse(400, 'failed', monitor.reason, { raw_status: rawStatus, mapped_status: mapped ?? null });

    if (mapped === undefined) {
      await this.receivers.recordCall(receiver, { ...base, result: 'ignored', reason: 'status not in the mapping', monitor_id: monitor.id, raw_status: rawStatus });
      return { status: 202, body: { result: 'ignored', raw_status: rawStatus, mapped_status: null, monitor_id: monitor.id, event_id: null } };
    }

    const result = this.probeResult(receiver, call, monitor.id, mapped);
    const recorded = { raw_status: rawStatus, mapped_status: mapped, monitor_id: monitor.id };
    try {
      await this.producer.send(this.producer.topics.probeResults, [
        {
          key: monitorKey(receiver.tenant_id, monitor.id),
          value: result,
          headers: {
            [HEADERS.contentType]: 'application/json',
            [HEADERS.schema]: PROBE_RESULT_SCHEMA,
            [HEADERS.tenantId]: receiver.tenant_id,
          },
        },
      ]);
    } catch (err) {
      this.logger.error(`receiver ${receiver.id}: producing the result failed: ${(err as Error).message}`);
      return refuse(503, 'failed', 'the result could not be queued; retry later', recorded);
    }
    await this.receivers.recordCall(receiver, { ...base, ...recorded, result: 'processed', event_id: result.event_id });
    return { status: 202, body: { result: 'processed', raw_status: rawStatus, mapped_status: mapped, monitor_id: monitor.id, event_id: result.event_id } };
  }

  private async resolveMonitor(receiver: ReceiverEntity, body: object): Promise<{ ok: true; id: string } | { ok: false; reason: string }> {
    if (receiver.monitor_id !== null) return { ok: true, id: receiver.monitor_id };
    const path = receiver.service_field ?? '';
    const raw = fieldText(readDotPath(body, path));
    if (raw === undefined) return { ok: false, reason: `${path}: no service at this path in the body` };
    const service = storableText(raw, 200);
    const id = await this.receivers.monitorByService(receiver.tenant_id, service);
    return id ? { ok: true, id } : { ok: false, reason: `${path}: no monitor has the slug or name "${service}"` };
  }

  private probeResult(receiver: ReceiverEntity, call: IncomingCall, monitorId: string, status: ReceiverStatus): ProbeResult {
    const message = receiver.message_field ? fieldText(readDotPath(call.body, receiver.message_field)) : undefined;
    return {
      event_id: randomUUID(),
      tenant_id: receiver.tenant_id,
      monitor_id: monitorId,
      observed_at: new Date().toISOString(),
      ...probeOutcome(status),
      ...(message ? { error: storableText(message, 2000) } : {}),
      status,
      source: 'receiver',
    };
  }
}
