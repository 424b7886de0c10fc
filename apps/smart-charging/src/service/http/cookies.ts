import type { FastifyReply, FastifyRequest } from 'fastify';

/** The browser session (owner or operator). */
export const SESSION_COOKIE = 'vk_session';
/** Binds a Connect flow's `state` to the browser that started it. */
export const CONNECT_COOKIE = 'vk_connect';

const secure = (request: FastifyRequest) => request.protocol === 'https';

export function readCookie(request: FastifyRequest, name: string): string | undefined {
  const value = request.cookies[name];
  // Our cookies are base64url secrets with a prefix; anything else is not ours.
  return value !== undefined && /^[A-Za-z0-9_-]{10,100}$/.test(value) ? value : undefined;
}

export function setSessionCookie(
  request: FastifyRequest,
  reply: FastifyReply,
  secret: string,
  expiresAt: Date,
): void {
  reply.setCookie(SESSION_COOKIE, secret, {
    path: '/',
    httpOnly: true,
    sameSite: 'lax',
    secure: secure(request),
    expires: expiresAt,
  });
}

export function clearSessionCookie(request: FastifyRequest, reply: FastifyReply): void {
  reply.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'lax', secure: secure(request) });
}

/** Lax, so that Connect's top-level redirect back to the callback carries it; scoped to the callback. */
export function setConnectCookie(request: FastifyRequest, reply: FastifyReply, binding: string): void {
  reply.setCookie(CONNECT_COOKIE, binding, {
    path: '/connect',
    httpOnly: true,
    sameSite: 'lax',
    secure: secure(request),
    maxAge: 600,
  });
}

export function clearConnectCookie(request: FastifyRequest, reply: FastifyReply): void {
  reply.clearCookie(CONNECT_COOKIE, {
    path: '/connect',
    httpOnly: true,
    sameSite: 'lax',
    secure: secure(request),
  });
}
