import type { z } from 'zod';

/**
 * Keyset-pagination cursors: the sort key of a page's last row, as base64url JSON. Opaque to callers (they
 * pass back what a page gave them); decoded through a schema, so a forged or truncated one is a clear 400
 * and never reaches SQL as anything but parameters.
 */
export function encodeCursor(key: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

export class CursorError extends Error {
  override name = 'CursorError';
  readonly code = 'INVALID_CURSOR' as const;
}

export function decodeCursor<T extends readonly unknown[]>(cursor: string, schema: z.ZodType<T>): T {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new CursorError('not a cursor this list gave out (pass nextCursor of the previous page)');
  }
  const result = schema.safeParse(parsed);
  if (!result.success)
    throw new CursorError('not a cursor this list gave out (pass nextCursor of the previous page)');
  return result.data;
}

/** One page of a keyset-ordered list: `nextCursor` is null on the last page. */
export interface Page<TItem> {
  readonly items: TItem[];
  readonly nextCursor: string | null;
}

/** Rows fetched with `limit + 1`: the extra row only tells whether another page follows. */
export function toPage<TRow, TItem>(
  rows: readonly TRow[],
  limit: number,
  toItem: (row: TRow) => TItem,
  keyOf: (row: TRow) => readonly (string | number)[],
): Page<TItem> {
  const pageRows = rows.slice(0, limit);
  const last = pageRows.at(-1);
  return {
    items: pageRows.map(toItem),
    nextCursor: rows.length > limit && last !== undefined ? encodeCursor(keyOf(last)) : null,
  };
}

/** A SQL text with its parameters, numbered as they are added; exported queries are EXPLAINed in tests. */
export class SqlBuilder {
  readonly params: unknown[] = [];
  /** Adds a parameter and returns its placeholder (`$3`). */
  param(value: unknown): string {
    this.params.push(value);
    return `$${this.params.length}`;
  }
}

export interface BuiltQuery {
  readonly text: string;
  readonly params: readonly unknown[];
}
