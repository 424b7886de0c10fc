import { STATUS_CODES } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, errorBody } from '../api-error.ts';
import { sendJson } from '../http/reply.ts';

/** One entry of a v3 error body. */
export interface V3ErrorEntry {
  status: string;
  type: string;
  code: string | null;
  title: string;
  detail: string;
  links: { about: string };
  resolution: { type: string | null };
  suggestedUserMessage: string;
}

/** The v3 form of an error: `{"errors":[{status, type, code, title, detail, links, resolution, …}]}`. */
export function v3ErrorBody(error: ApiError, requestId: string): { errors: V3ErrorEntry[] } {
  const v2 = errorBody(error, requestId);
  return {
    errors: [
      {
        status: String(v2.statusCode),
        type: v2.type,
        code: v2.code,
        title: STATUS_CODES[v2.statusCode] ?? 'Error',
        detail: v2.description,
        links: { about: v2.docURL },
        resolution: v2.resolution,
        suggestedUserMessage: v2.suggestedUserMessage,
      },
    ],
  };
}

export function sendV3Error(request: FastifyRequest, reply: FastifyReply, error: ApiError): FastifyReply {
  const headers: Record<string, string> = {};
  if (error.retryAfterSeconds !== undefined) headers['retry-after'] = String(error.retryAfterSeconds);
  return sendJson(request, reply, error.statusCode, v3ErrorBody(error, request.id), headers);
}

/** Runs a v3 handler; an ApiError (or anything unexpected) is answered in the v3 error shape. */
export function answeringV3Errors<TRequest extends FastifyRequest>(
  handler: (request: TRequest, reply: FastifyReply) => FastifyReply | Promise<FastifyReply>,
): (request: TRequest, reply: FastifyReply) => Promise<FastifyReply> {
  return async (request, reply) => {
    try {
      return await handler(request, reply);
    } catch (error) {
      if (error instanceof ApiError) return sendV3Error(request, reply, error);
      request.log.error({ err: { message: error instanceof Error ? error.message : 'unknown' } }, 'v3 error');
      return sendV3Error(request, reply, new ApiError('SERVER', 'INTERNAL'));
    }
  };
}
