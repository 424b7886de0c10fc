import { z } from 'zod';

/** Items per page: at most `max`, `fallback` when not given. */
export function limitSchema(max: number, fallback: number) {
  return z.coerce
    .number('expected a whole number of items per page')
    .int('expected a whole number of items per page')
    .min(1)
    .max(max)
    .default(fallback);
}

/** `?cursor=…&limit=…` of every paged list: the cursor is `nextCursor` of the previous page, opaque. */
export const CursorQuerySchema = z.object({
  cursor: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,1000}$/, 'expected nextCursor of the previous page')
    .optional(),
  limit: limitSchema(1000, 100),
});

/** `{ items, nextCursor }`; `nextCursor` is null on the last page. */
export function pageSchema<TItem extends z.ZodType>(item: TItem) {
  return z.object({ items: z.array(item), nextCursor: z.string().nullable() });
}
