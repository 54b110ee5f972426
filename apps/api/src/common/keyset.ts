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
  const at = `date_trunc('milliseconds', ${alias}.${columns.at})`;
  const id = `${alias}.${columns.id}`;
  if (cursor) qb.andWhere(`(${at}, ${id}) > (:at::timestamptz, :cid)`, { at: cursor.at, cid: cursor.id });
  return qb.orderBy(at, 'ASC').addOrderBy(id, 'ASC').limit(query.limit + 1);
}
