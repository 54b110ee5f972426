import { ArgumentsHost, Catch, HttpException, HttpStatus, Logger, type ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';

interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
  details?: unknown;
}

/** Every error leaves as `{statusCode, error, message, details?}`; unexpected ones are logged, not leaked. */
@Catch()
export class JsonErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger(JsonErrorFilter.name);

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    const body = this.toBody(exception);
    res.status(body.statusCode).json(body);
  }

  private toBody(exception: unknown): ErrorBody {
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const response = exception.getResponse();
      const fields = typeof response === 'object' && response !== null ? (response as Record<string, unknown>) : {};
      const message = Array.isArray(fields.message) ? fields.message.join('; ') : String(fields.message ?? exception.message);
      const error = typeof fields.error === 'string' ? fields.error : statusName(status);
      return { statusCode: status, error, message, ...(fields.details !== undefined ? { details: fields.details } : {}) };
    }
    if (isBodyParserError(exception)) return bodyParserRefusal(exception);
    this.logger.error(exception instanceof Error ? (exception.stack ?? exception.message) : String(exception));
    return { statusCode: 500, error: 'Internal Server Error', message: 'internal error' };
  }
}

/** `PAYLOAD_TOO_LARGE` → `Payload Too Large`, as Nest's own exceptions name their status. */
export function statusName(statusCode: number): string {
  const name = HttpStatus[statusCode] ?? 'Error';
  return name
    .split('_')
    .map((word) => word.charAt(0) + word.slice(1).toLowerCase())
    .join(' ');
}

interface BodyParserError extends Error {
  type: string;
  status: number;
  limit?: number;
  length?: number;
  charset?: string;
  encoding?: string;
}

/** body-parser's own errors carry a `type` and a 4xx `status`; anything else is ours. */
function isBodyParserError(e: unknown): e is BodyParserError {
  const fields = e as { type?: unknown; status?: unknown };
  return (
    e instanceof Error &&
    typeof fields.type === 'string' &&
    typeof fields.status === 'number' &&
    fields.status >= 400 &&
    fields.status < 500
  );
}

function bodyParserRefusal(e: BodyParserError): ErrorBody {
  const refusal = (statusCode: number, message: string): ErrorBody => ({
    statusCode,
    error: statusName(statusCode),
    message,
  });
  switch (e.type) {
    case 'entity.too.large':
      return refusal(413, `request body is ${e.length ?? 'more than'} bytes; the limit is ${e.limit ?? 'exceeded'} bytes`);
    case 'entity.parse.failed':
      return refusal(400, `request body is not valid JSON: ${e.message}`);
    case 'charset.unsupported':
      return refusal(415, `request body charset "${e.charset ?? ''}" is not supported; send UTF-8 JSON`);
    case 'encoding.unsupported':
      return refusal(415, `content-encoding "${e.encoding ?? ''}" is not supported; send identity, gzip or deflate`);
    default:
      return refusal(e.status, `request body could not be read: ${e.message}`);
  }
}
