import { BadRequestException } from '@nestjs/common';
import type { ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import { CursorError, decodeCursor, type ListQuery } from './pagination';

/** Applies the cursor and limit (+1 to know whether another page exists) to a list query. */
export function keysetWhere<T extends ObjectLiteral>(
  qb: SelectQueryBuilder<T>,
  alias: string,
  query: ListQuery,
  columns: { at: string; id: string } = { at: 'created_at', id: 'id' },
) {
  let cursor;
  try {
    cursor = decodeCursor(query.cursor);
  } catch (err) {
    if (err instanceof CursorError) {
      throw new BadRequestException({ statusCode: 400, error: 'Bad Request', message: `cursor: ${err.message}`, details: [{ field: 'cursor', message: err.message }] });
    }
    throw err;
  }
  // Cursors carry milliseconds (JS dates); Postgres keeps microseconds, so compare and order at ms.
  // Truncating the UTC timestamp (not the timestamptz) keeps the expression immutable, so the
  // (tenant or parent, this expression, id) indexes serve every page in either direction.
  const at = `date_trunc('milliseconds', ${alias}.${columns.at} AT TIME ZONE 'UTC')`;
  const id = `${alias}.${columns.id}`;
  const desc = query.order === 'desc';
  if (cursor) {
    qb.andWhere(`(${at}, ${id}) ${desc ? '<' : '>'} ((:at::timestamptz AT TIME ZONE 'UTC'), :cid)`, { at: cursor.at, cid: cursor.id });
  }
  const direction = desc ? 'DESC' : 'ASC';
  return qb.orderBy(at, direction).addOrderBy(id, direction).limit(query.limit + 1);
}
