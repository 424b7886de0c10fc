import { createHash, randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { safeEqual } from '../credentials.ts';

export const DASHBOARD_PREFIX = '/_simulator/dashboard';
const COOKIE = 'sim_dashboard';
/** A dashboard sign-in lasts a working day of wall-clock time. */
const SESSION_TTL_MS = 12 * 3_600_000;

export interface DashboardSession {
  readonly csrfToken: string;
  readonly expiresAt: number;
  /** One message for the next page (what the last action did, or why it failed). */
  flash: { kind: 'ok' | 'error'; text: string } | null;
  /** A client id whose secrets the next apps page shows (a deliberate "reveal"). */
  reveal: string | null;
}

const hash = (secret: string) => createHash('sha256').update(secret).digest('hex');

/**
 * Browser sessions of the dashboard: signing in with the management token sets an HttpOnly,
 * SameSite=Strict cookie holding a random secret (only its hash is kept). State-changing requests must
 * come from the dashboard's own origin and carry the session's CSRF token.
 */
export class DashboardSessions {
  readonly #managementToken: string;
  readonly #sessions = new Map<string, DashboardSession>();

  constructor(managementToken: string) {
    this.#managementToken = managementToken;
  }

  /** Checks the management token; on success starts a session and sets its cookie. */
  signIn(reply: FastifyReply, token: string): boolean {
    if (!safeEqual(token, this.#managementToken)) return false;
    const now = Date.now();
    for (const [key, session] of this.#sessions) if (session.expiresAt <= now) this.#sessions.delete(key);
    const secret = randomBytes(32).toString('base64url');
    this.#sessions.set(hash(secret), {
      csrfToken: randomBytes(32).toString('base64url'),
      expiresAt: now + SESSION_TTL_MS,
      flash: null,
      reveal: null,
    });
    reply.header(
      'set-cookie',
      `${COOKIE}=${secret}; Path=${DASHBOARD_PREFIX}; HttpOnly; SameSite=Strict; Max-Age=${SESSION_TTL_MS / 1000}`,
    );
    return true;
  }

  signOut(request: FastifyRequest, reply: FastifyReply): void {
    const secret = cookieValue(request, COOKIE);
    if (secret !== undefined) this.#sessions.delete(hash(secret));
    reply.header('set-cookie', `${COOKIE}=; Path=${DASHBOARD_PREFIX}; HttpOnly; SameSite=Strict; Max-Age=0`);
  }

  /** The session of the request's cookie, if it is live. */
  sessionOf(request: FastifyRequest): DashboardSession | undefined {
    const secret = cookieValue(request, COOKIE);
    if (secret === undefined) return undefined;
    const key = hash(secret);
    const session = this.#sessions.get(key);
    if (session === undefined) return undefined;
    if (session.expiresAt <= Date.now()) {
      this.#sessions.delete(key);
      return undefined;
    }
    return session;
  }
}

/**
 * Whether a state-changing request comes from the page's own origin: a browser sends `Origin` with every
 * POST; when it is missing (old browsers, curl), `Sec-Fetch-Site` must not say cross-site.
 */
export function sameOrigin(request: FastifyRequest): boolean {
  const host = request.headers.host;
  const origin = request.headers.origin;
  if (origin !== undefined) return host !== undefined && origin === `http://${host}`;
  const site = request.headers['sec-fetch-site'];
  return site === undefined || site === 'same-origin';
}

function cookieValue(request: FastifyRequest, name: string): string | undefined {
  const header = request.headers.cookie;
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
