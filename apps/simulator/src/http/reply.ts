import type { FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { ApiError, errorBody } from '../api-error.ts';

/** Sends a JSON body with the headers every Smartcar response carries. */
export function sendJson(
  request: FastifyRequest,
  reply: FastifyReply,
  status: number,
  body: unknown,
  headers?: Record<string, string>,
): FastifyReply {
  reply
    .code(status)
    .header('content-type', 'application/json; charset=utf-8')
    .header('sc-request-id', request.id);
  if (headers !== undefined) for (const key in headers) reply.header(key, headers[key]);
  return reply.send(JSON.stringify(body));
}

export function sendApiError(request: FastifyRequest, reply: FastifyReply, error: ApiError): FastifyReply {
  const headers: Record<string, string> = {};
  if (error.retryAfterSeconds !== undefined) headers['retry-after'] = String(error.retryAfterSeconds);
  return sendJson(request, reply, error.statusCode, errorBody(error, request.id), headers);
}

/** Parses a boundary value with zod; failures become a 400 VALIDATION naming each bad field. */
export function parseOrThrow<TSchema extends z.ZodType>(schema: TSchema, value: unknown): z.infer<TSchema> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new ApiError('VALIDATION', 'PARAMETER', {
    detail: result.error.issues.map((issue) => ({
      field: issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p)),
      message: issue.path.length > 0 ? `"${issue.path.join('.')}" ${issue.message}` : issue.message,
    })),
  });
}

/** Query/form values: the SDK sends the literal string `undefined` for unset options. */
export function presentValue(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  if (value === '' || value === 'undefined' || value === 'null') return undefined;
  return value;
}

/** A non-negative integer parameter given as a string or number, or the default when absent. */
export function intParam(value: unknown, field: string, fallback: number, max?: number): number {
  if (typeof value === 'number' && Number.isInteger(value)) return checkRange(value, field, max);
  const present = presentValue(value);
  if (present === undefined) return fallback;
  if (!/^\d+$/.test(present)) {
    throw new ApiError('VALIDATION', 'PARAMETER', {
      detail: [{ field: [field], message: `"${field}" must be a non-negative integer` }],
    });
  }
  return checkRange(Number(present), field, max);
}

function checkRange(value: number, field: string, max: number | undefined): number {
  if (value < 0 || (max !== undefined && value > max)) {
    throw new ApiError('VALIDATION', 'PARAMETER', {
      detail: [{ field: [field], message: `"${field}" must be between 0 and ${max ?? 'infinity'}` }],
    });
  }
  return value;
}

export function headerValue(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
