import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { safeEqual } from '../credentials.ts';
import type { ConnectSessionRecord } from '../state/records.ts';
import type { SimulatorStore } from '../state/store.ts';

/** A Connect visit lives this long in wall-clock time (and so does its cookie). */
export const CONNECT_SESSION_TTL_MS = 30 * 60_000;
const MAX_SESSIONS = 10_000;
/** The cookie holding the browser's secret; one per session, scoped to that session's pages by its Path. */
export const CONNECT_COOKIE = 'vk_connect';

function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/**
 * Connect sessions bound to the browser that opened them (RFC 9700 §4.7): the session id in the URL is
 * not enough, the browser must also present the HttpOnly cookie set by `/oauth/authorize`, and every form
 * post must carry the session's CSRF token. Sessions live in the store, so a restart keeps them.
 */
export class ConnectSessions {
  readonly #store: SimulatorStore;
  readonly #wallClock: () => number;

  constructor(store: SimulatorStore, wallClock: () => number = Date.now) {
    this.#store = store;
    this.#wallClock = wallClock;
  }

  /** Opens a session; the returned secret goes to the browser in the cookie (see `cookieHeader`). */
  open(input: Omit<ConnectSessionRecord, 'id' | 'createdAt' | 'bindingHash' | 'csrfToken'>): {
    session: ConnectSessionRecord;
    browserSecret: string;
  } {
    this.#makeRoom();
    const browserSecret = randomBytes(32).toString('base64url');
    const session: ConnectSessionRecord = {
      ...input,
      id: randomUUID(),
      createdAt: this.#wallClock(),
      bindingHash: sha256(browserSecret),
      csrfToken: randomBytes(24).toString('base64url'),
    };
    this.#store.connectSessions.set(session.id, session);
    this.#store.changed();
    return { session, browserSecret };
  }

  cookieHeader(session: ConnectSessionRecord, browserSecret: string): string {
    return [
      `${CONNECT_COOKIE}=${browserSecret}`,
      `Path=/connect/${session.id}`,
      `Max-Age=${CONNECT_SESSION_TTL_MS / 1000}`,
      'HttpOnly',
      'SameSite=Strict',
    ].join('; ');
  }

  /**
   * The session behind `sid` if the request's browser owns it: `expired` when there is no such live
   * session, `foreign` when the browser lacks its cookie.
   */
  find(sid: string, cookieHeader: string | undefined): ConnectSessionRecord | 'expired' | 'foreign' {
    const session = this.#store.connectSessions.get(sid);
    if (session === undefined) return 'expired';
    if (this.#wallClock() - session.createdAt > CONNECT_SESSION_TTL_MS) {
      this.close(session);
      return 'expired';
    }
    const owned = cookieValues(cookieHeader, CONNECT_COOKIE).some((value) =>
      safeEqual(sha256(value), session.bindingHash),
    );
    return owned ? session : 'foreign';
  }

  csrfValid(session: ConnectSessionRecord, token: string | undefined): boolean {
    return token !== undefined && safeEqual(token, session.csrfToken);
  }

  update(
    session: ConnectSessionRecord,
    patch: Partial<Pick<ConnectSessionRecord, 'brand' | 'accountId'>>,
  ): void {
    Object.assign(session, patch);
    this.#store.changed();
  }

  close(session: ConnectSessionRecord): void {
    this.#store.connectSessions.delete(session.id);
    this.#store.changed();
  }

  #makeRoom(): void {
    const sessions = this.#store.connectSessions;
    if (sessions.size < MAX_SESSIONS) return;
    const cutoff = this.#wallClock() - CONNECT_SESSION_TTL_MS;
    for (const [id, s] of sessions) if (s.createdAt < cutoff) sessions.delete(id);
    // Still full: the oldest visit gives way (Map keeps insertion order).
    if (sessions.size >= MAX_SESSIONS) sessions.delete(sessions.keys().next().value ?? '');
  }
}

/** Every value of cookie `name` in a `Cookie` header (several when paths overlap). */
export function cookieValues(header: string | undefined, name: string): string[] {
  if (header === undefined) return [];
  const values: string[] = [];
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) values.push(part.slice(eq + 1).trim());
  }
  return values;
}
