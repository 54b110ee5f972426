import { Controller, HttpCode, HttpException, Inject, Param, Post, Req, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBody, ApiHeader, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { clientAddress, RATE_LIMITER, RateLimiter, tooManyRequests } from '../auth/rate-limiter';
import { hashReceiverToken } from './commands/receiver.commands';
import { ReceiveStatusWebhookCommand, type IncomingAnswer } from './commands/receive-status-webhook.command';
import { DEFAULT_SIGNATURE_HEADER } from './inbound-mapping';

type RequestWithRawBody = Request & { rawBody?: Buffer };

const ERROR_NAMES = {
  400: 'Bad Request',
  401: 'Unauthorized',
  404: 'Not Found',
  415: 'Unsupported Media Type',
  503: 'Service Unavailable',
} as const;

/**
 * The receiver URL another system calls: no API key, the 64-character token is the
 * credential. Rate limited like an API key, twice: per client address (one sender, or one
 * guessing tokens) and per token (all the traffic one receiver's URL may bring), so a flood
 * on one URL cannot take the produce path and the database from every other tenant.
 */
@ApiTags('receivers')
@Controller('v1/hooks/incoming')
export class IncomingHooksController {
  constructor(
    private readonly commands: CommandBus,
    @Inject(RATE_LIMITER) private readonly limiter: RateLimiter,
  ) {}

  @Post(':token')
  @HttpCode(202)
  @ApiOperation({
    summary: 'A status webhook from another system (no API key)',
    description:
      'The status is read at the receiver\'s status_field, mapped (case-insensitively) to operational, degraded, down ' +
      'or maintenance, and queued as a probe result of the receiver\'s monitor. An unmapped status answers 202 with ' +
      'result "ignored". With a secret, the signature header must hold the hex HMAC-SHA256 of the raw body ' +
      '(optionally prefixed "sha256=").',
  })
  @ApiParam({ name: 'token', description: 'the 64-character token from POST /v1/receivers' })
  @ApiHeader({ name: DEFAULT_SIGNATURE_HEADER, required: false, description: 'hex HMAC-SHA256 of the raw body (or the receiver\'s signature_header)' })
  @ApiBody({ schema: { type: 'object', description: 'the sender\'s own JSON; fields are read by dot path', additionalProperties: true } })
  @ApiResponse({ status: 202, description: '{result: processed | ignored, raw_status, mapped_status, monitor_id, event_id}' })
  @ApiResponse({ status: 401, description: 'signature missing or wrong (logged as auth_failed)' })
  @ApiResponse({ status: 404, description: 'no receiver has this token' })
  @ApiResponse({ status: 429, description: 'over the rate limit of this client address or of this receiver URL; see Retry-After' })
  @ApiResponse({ status: 503, description: 'the result could not be queued, or the receiver\'s secret cannot be opened (details.error_class secret_unreadable)' })
  async receive(@Param('token') token: string, @Req() req: RequestWithRawBody, @Res({ passthrough: true }) res: Response) {
    for (const [bucket, per] of [
      [`hook-ip:${clientAddress(req)}`, 'client address'],
      [`hook-token:${hashReceiverToken(token)}`, 'receiver URL'],
    ] as const) {
      const wait = this.limiter.take(bucket);
      if (wait > 0) {
        res.setHeader('Retry-After', String(wait));
        throw tooManyRequests(wait, this.limiter, per);
      }
    }
    const answer: IncomingAnswer = await this.commands.execute(
      new ReceiveStatusWebhookCommand({
        token,
        rawBody: req.rawBody,
        body: req.body as unknown,
        headers: req.headers,
        sourceIp: req.ip ?? req.socket.remoteAddress ?? null,
      }),
    );
    if (answer.status === 202) return answer.body;
    throw new HttpException(
      {
        statusCode: answer.status,
        error: ERROR_NAMES[answer.status],
        message: answer.message,
        ...(answer.errorClass === undefined ? {} : { details: { error_class: answer.errorClass } }),
      },
      answer.status,
    );
  }
}
