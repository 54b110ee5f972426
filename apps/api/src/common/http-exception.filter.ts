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
      const error = typeof fields.error === 'string' ? fields.error : (HttpStatus[status] ?? 'Error').replace(/_/g, ' ');
      return { statusCode: status, error, message, ...(fields.details !== undefined ? { details: fields.details } : {}) };
    }
    if (isBodyParserError(exception) && exception.type === 'entity.too.large') {
      const limit = exception.limit === undefined ? '' : ` of ${exception.limit} bytes`;
      return { statusCode: 413, error: 'Payload Too Large', message: `request body is over the size limit${limit}` };
    }
    if (isBodyParserError(exception)) {
      return { statusCode: 400, error: 'Bad Request', message: `request body is not valid JSON: ${exception.message}` };
    }
    this.logger.error(exception instanceof Error ? (exception.stack ?? exception.message) : String(exception));
    return { statusCode: 500, error: 'Internal Server Error', message: 'internal error' };
  }
}

function isBodyParserError(e: unknown): e is Error & { type: string; limit?: number } {
  const type = e instanceof Error ? (e as { type?: string }).type : undefined;
  return type === 'entity.parse.failed' || type === 'entity.too.large';
}
