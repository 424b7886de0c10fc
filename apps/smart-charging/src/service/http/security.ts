import cookie from '@fastify/cookie';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { problem } from './api-route.ts';
import { WEBHOOK_PATH } from './webhook-routes.ts';

/** Host names a loopback service answers to; anything else in `Host` is a DNS-rebinding attempt. */
export const LOOPBACK_HOSTS: readonly string[] = ['localhost', '127.0.0.1', '[::1]'];

export interface BrowserHardening {
  /** Host names (no port) accepted in `Host`; loopback names are always included. */
  readonly allowedHosts: readonly string[];
  /** Sign-in and Connect endpoints: at most `max` requests per `timeWindowMs` per client address. */
  readonly rateLimit: { readonly max: number; readonly timeWindowMs: number };
}

/** The policy of the JSON API: nothing may load, frame or run. HTML pages send their own (page CSP). */
const API_CSP = {
  defaultSrc: ["'none'"],
  frameAncestors: ["'none'"],
  baseUri: ["'none'"],
  formAction: ["'none'"],
};

/** CSP of a page whose inline scripts are allowed by hash and nothing else. */
export function pageContentSecurityPolicy(scriptHashes: readonly string[]): string {
  return [
    "default-src 'none'",
    `script-src ${scriptHashes.join(' ') || "'none'"}`,
    // The dashboard draws with inline style attributes; no script can be injected through them.
    "style-src 'unsafe-inline'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/**
 * The built front end's pages: scripts and the stylesheet only from this origin (`/assets/`), never inline;
 * inline style attributes stay allowed for the chart's SVG (no script runs through them).
 */
export function assetPageContentSecurityPolicy(): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** `Host: name[:port]` → `name` (IPv6 literals keep their brackets), lower case. */
export function hostName(hostHeader: string | undefined): string | undefined {
  if (hostHeader === undefined || hostHeader.length === 0 || hostHeader.length > 255) return undefined;
  const match = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::\d{1,5})?$/i.exec(hostHeader);
  return match?.[1]?.toLowerCase();
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Why a state-changing request must be refused (CSRF), or undefined to let it through. A browser always
 * sends `Origin` on POST/PUT/DELETE: it must be this very origin. A request without `Origin` is allowed
 * only with a bearer token, which no browser attaches on its own.
 */
export function csrfRefusal(request: FastifyRequest): string | undefined {
  if (SAFE_METHODS.has(request.method)) return undefined;
  // Webhooks carry no cookie or token to abuse: the body's signature is their only credential.
  if (request.url === WEBHOOK_PATH) return undefined;
  const origin = request.headers.origin;
  if (origin !== undefined) {
    let originHost: string | undefined;
    try {
      originHost = new URL(origin).host;
    } catch {
      originHost = undefined;
    }
    if (originHost !== undefined && originHost === request.headers.host?.toLowerCase()) return undefined;
    return 'a state-changing request from another origin (cross-site request forgery protection)';
  }
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin')
    return 'a state-changing request from another site (cross-site request forgery protection)';
  if (/^Bearer /i.test(request.headers.authorization ?? '')) return undefined;
  return 'a state-changing request needs an Origin header (browsers send it) or an API token (Authorization: Bearer)';
}

/**
 * Registers cookies, security headers (@fastify/helmet), rate limiting for the routes that opt in
 * (@fastify/rate-limit), the Host allow-list against DNS rebinding and the Origin check against CSRF.
 */
export async function registerBrowserHardening(
  app: FastifyInstance,
  options: BrowserHardening,
): Promise<void> {
  const allowed = new Set([...LOOPBACK_HOSTS, ...options.allowedHosts.map((host) => host.toLowerCase())]);
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const host = hostName(request.headers.host);
    if (host === undefined || !allowed.has(host)) {
      return reply
        .status(403)
        .send(
          problem(
            403,
            'this service does not answer to that Host name (DNS rebinding protection); set ALLOWED_HOSTS',
          ),
        );
    }
    const refusal = csrfRefusal(request);
    if (refusal !== undefined) return reply.status(403).send(problem(403, `refused: ${refusal}`));
    return undefined;
  });
  await app.register(cookie);
  await app.register(helmet, {
    contentSecurityPolicy: { useDefaults: false, directives: API_CSP },
    // Connect pages open in the same tab; a window reference to them is not needed.
    crossOriginOpenerPolicy: { policy: 'same-origin' },
    referrerPolicy: { policy: 'no-referrer' },
  });
  await app.register(rateLimit, {
    global: false,
    max: options.rateLimit.max,
    timeWindow: options.rateLimit.timeWindowMs,
    errorResponseBuilder: (_request, context) =>
      Object.assign(new Error(`too many attempts from this address: try again in ${context.after}`), {
        statusCode: 429,
      }),
  });
}
