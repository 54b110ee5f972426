import { BadRequestException, type PipeTransform } from '@nestjs/common';
import type { z } from 'zod';
import { describeIssues, parseWith } from '@tocsin/contracts';

/** Validates a body or query with a zod schema; a 400 names every offending field. */
export class ZodValidationPipe<S extends z.ZodType> implements PipeTransform<unknown, z.output<S>> {
  constructor(private readonly schema: S) {}

  transform(value: unknown): z.output<S> {
    const parsed = parseWith(this.schema, value ?? {});
    if (parsed.ok) return parsed.value;
    throw new BadRequestException({
      statusCode: 400,
      error: 'Bad Request',
      message: describeIssues(parsed.issues),
      details: parsed.issues,
    });
  }
}
