import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, errorBody } from '../api-error.ts';
import { OAuthError } from '../oauth/tokens.ts';
import { sendV3Error } from '../v3/errors.ts';
import { connectHeaders, errorPage } from './connect-html.ts';
import { sendApiError, sendJson } from './reply.ts';

/**
 * One error body per surface, for every 4xx/5xx, including those the router and the HTTP parser raise
 * before a route runs: the token endpoint answers OAuth's `{error, error_description}`, the Connect pages
 * an HTML error page (never a redirect), `/v3/` the v3 error body, everything else Smartcar's v2.0 error body.
 */
type Surface = 'token' | 'connect' | 'v3' | 'api';

function surfaceOf(url: string): Surface {
  const path = url.split('?')[0] ?? '';
  if (path === '/oauth/token' || path === '/oauth2/token') return 'token';
  if (path === '/oauth/authorize' || path.startsWith('/connect/')) return 'connect';
  if (path.startsWith('/v3/')) return 'v3';
  return 'api';
}

const OAUTH_ERRORS: Partial<Record<number, OAuthError['error']>> = { 401: 'invalid_client' };

/** Renders `error` (any thrown value) for the request's surface. */
export function sendError(
  request: FastifyRequest,
  reply: FastifyReply,
  error: ApiError | OAuthError,
): FastifyReply {
  const surface = surfaceOf(request.url);
  if (error instanceof OAuthError) {
    return sendJson(request, reply, error.statusCode, {
      error: error.error,
      error_description: error.message,
    });
  }
  if (surface === 'token') {
    const code = OAUTH_ERRORS[error.statusCode] ?? 'invalid_request';
    return sendJson(request, reply, error.statusCode, { error: code, error_description: error.message });
  }
  if (surface === 'connect') {
    const title = STATUS_CODES[error.statusCode] ?? 'Error';
    return connectHeaders(reply)
      .code(error.statusCode)
      .header('content-type', 'text/html; charset=utf-8')
      .header('sc-request-id', request.id)
      .send(errorPage(title, error.message));
  }
  if (surface === 'v3') return sendV3Error(request, reply, error);
  return sendApiError(request, reply, error);
}

/** A framework error (body parser, router) as an ApiError with its HTTP status. */
export function fromFrameworkError(error: FastifyError, bodyLimit: number): ApiError {
  const status = error.statusCode ?? 500;
  if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return new ApiError('VALIDATION', null, {
      statusCode: 413,
      description: `The request body exceeds ${bodyLimit} bytes.`,
    });
  }
  if (error.code === 'FST_ERR_BAD_URL')
    return new ApiError('VALIDATION', null, {
      description: 'The request path is not validly percent-encoded.',
    });
  if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    return new ApiError('VALIDATION', null, {
      statusCode: 414,
      description: 'A path parameter is longer than any identifier the API issues.',
    });
  }
  if (status >= 400 && status < 500) {
    // Fastify's messages can echo the request (URL, header names); say only what kind of problem it is.
    return new ApiError('VALIDATION', null, {
      statusCode: status,
      description: `The request was refused: ${STATUS_CODES[status] ?? 'client error'}.`,
    });
  }
  return new ApiError('SERVER', 'INTERNAL');
}

/**
 * Errors of the HTTP parser (431 header too large, malformed request lines) happen before Fastify has a
 * request; the connection gets Smartcar's error body written by hand, then closes.
 */
export function writeClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const status =
    error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const description =
    status === 431
      ? 'The request headers are larger than the server accepts.'
      : status === 408
        ? 'The request took too long to arrive.'
        : 'The request is not valid HTTP.';
  const requestId = randomUUID();
  const body = JSON.stringify(
    errorBody(new ApiError('VALIDATION', null, { statusCode: status, description }), requestId),
  );
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nSC-Request-Id: ${requestId}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}
