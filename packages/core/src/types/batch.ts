import { z } from 'zod';

/** `POST /vehicles/{id}/batch` body: paths are sent verbatim (a leading slash is conventional). */
export interface BatchRequest {
  requests: { path: string }[];
}
export const BatchRequestSchema: z.ZodType<BatchRequest> = z.object({
  requests: z.array(z.object({ path: z.string().min(1) })).min(1),
});

/** One item of a batch response (also the shape of webhook `data[]` items). */
export interface BatchResponseItem {
  path: string;
  code: number;
  body: unknown;
  headers: Record<string, string>;
}
/** Error items may come without `headers` (filled in as `{}`); header names are lower-cased. */
export const BatchResponseItemSchema: z.ZodType<BatchResponseItem, unknown> = z.object({
  path: z.string(),
  code: z.number().int(),
  body: z.unknown(),
  headers: z
    .record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String))
    .default({})
    .transform((headers) =>
      Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value])),
    ),
});

export interface BatchResponse {
  responses: BatchResponseItem[];
}
export const BatchResponseSchema: z.ZodType<BatchResponse, unknown> = z.object({
  responses: z.array(BatchResponseItemSchema),
});
