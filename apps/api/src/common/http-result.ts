import { BadRequestException, ConflictException, NotFoundException } from '@nestjs/common';
import type { Outcome } from './result';

/** Unwraps a handler's outcome or raises the matching HTTP error with the field named. */
export function unwrap<T>(outcome: Outcome<T>): T {
  if (outcome.ok) return outcome.value;
  const body = {
    statusCode: outcome.status,
    message: outcome.field ? `${outcome.field}: ${outcome.message}` : outcome.message,
    ...(outcome.field ? { details: [{ field: outcome.field, message: outcome.message }] } : {}),
  };
  if (outcome.status === 404) throw new NotFoundException({ ...body, error: 'Not Found' });
  if (outcome.status === 409) throw new ConflictException({ ...body, error: 'Conflict' });
  throw new BadRequestException({ ...body, error: 'Bad Request' });
}
