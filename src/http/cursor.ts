import { type z } from 'zod';
import { AppError } from './app-error.js';

/**
 * Opaque keyset cursors: base64url of a JSON array `[kind, ...sortKeyValues]`. The kind ties a
 * cursor to the list that made it, so a tag cursor sent to another list is rejected rather than
 * misread. Clients must treat cursors as opaque; the format may change between versions.
 */
export function encodeCursor(kind: string, values: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify([kind, ...values]), 'utf8').toString('base64url');
}

const MAX_CURSOR_LENGTH = 1024;

export function decodeCursor<T extends z.ZodType>(kind: string, raw: string, values: T): z.output<T> {
  const invalid = () => new AppError('INVALID_CURSOR', 'The cursor is not one this list produced; start again without it.', [
    { path: 'query.cursor', message: 'Invalid cursor' },
  ]);
  if (raw.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(raw)) throw invalid();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (!Array.isArray(parsed) || parsed[0] !== kind) throw invalid();
  const result = values.safeParse(parsed.slice(1));
  if (!result.success) throw invalid();
  return result.data;
}

/**
 * One page from `limit + 1` fetched rows: the extra row only says that another page exists, and
 * the last row kept gives the cursor.
 */
export function paginate<T>(
  rows: T[],
  limit: number,
  kind: string,
  sortKey: (row: T) => readonly (string | number)[],
): { data: T[]; nextCursor: string | null } {
  const data = rows.slice(0, limit);
  const last = data.at(-1);
  return { data, nextCursor: rows.length > limit && last !== undefined ? encodeCursor(kind, sortKey(last)) : null };
}
