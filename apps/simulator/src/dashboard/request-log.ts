import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { VEHICLE_ENDPOINTS } from '@voltkit/core/permissions';
import { decodeBasic, safeEqual } from '../credentials.ts';
import type { SimulatorStore } from '../state/store.ts';
import { isServedSignalCode, signalMeta } from '../v3/signal-values.ts';
import { resolveVehicleEndpoint } from '../vehicle/endpoints.ts';

/** Paths the log leaves out: the dashboard itself (it polls) and the demo receiver (see the delivery log). */
const UNLOGGED_PREFIXES = ['/_simulator/dashboard', '/_simulator/demo-receiver'] as const;

export interface RequestLogEntry {
  /** Wall-clock ms when the response finished. */
  readonly at: number;
  readonly method: string;
  /** The path without its query string (queries can carry state and redirect parameters). */
  readonly path: string;
  readonly status: number;
  readonly latencyMs: number;
  /** Client id of the app that asked, when its credentials were valid; `null` when nobody known asked. */
  readonly clientId: string | null;
  /** `simulator` for the management token of `/_simulator`. */
  readonly caller: 'app' | 'simulator' | null;
  /** The permission the endpoint needs (`read_battery` …), `null` for endpoints without one. */
  readonly scope: string | null;
}

export interface RequestLogDeps {
  readonly store: SimulatorStore;
  readonly managementToken: string;
  /** The app behind a v3 application token. */
  readonly applicationTokenApp?: (token: string) => string | undefined;
}

/**
 * The most recent requests, for the dashboard. Recording runs on every response of the hot path, so it
 * writes primitives into preallocated parallel arrays (O(1), no object per request); who asked is
 * resolved then (tokens may be revoked later), the scope only when the log is read.
 */
export class RequestLog {
  readonly capacity: number;
  readonly #deps: RequestLogDeps;
  readonly #at: Float64Array;
  readonly #latency: Float64Array;
  readonly #status: Uint16Array;
  readonly #method: string[];
  readonly #url: string[];
  readonly #client: (string | null)[];
  #next = 0;
  #size = 0;
  #lastHeader: string | undefined = undefined;
  #lastClient: string | null = null;

  constructor(deps: RequestLogDeps, capacity = 500) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new Error('requestLogSize must be a whole number of at least 1');
    this.#deps = deps;
    this.capacity = capacity;
    this.#at = new Float64Array(capacity);
    this.#latency = new Float64Array(capacity);
    this.#status = new Uint16Array(capacity);
    this.#method = new Array<string>(capacity).fill('');
    this.#url = new Array<string>(capacity).fill('');
    this.#client = new Array<string | null>(capacity).fill(null);
  }

  /**
   * Records every response `server` finishes, from Node's `http.server.*` diagnostics channels: no hook,
   * listener or closure per request, only the channel's message. Returns the function that stops it.
   */
  attach(server: Server): () => void {
    const onStart = (message: unknown) => {
      const { request, server: from } = message as ServerMessage;
      if (from === server) (request as StampedRequest)[STARTED_AT] = performance.now();
    };
    const onFinish = (message: unknown) => {
      const { request, response, server: from } = message as ServerMessage;
      if (from === server) this.record(request, response.statusCode);
    };
    subscribe('http.server.request.start', onStart);
    subscribe('http.server.response.finish', onFinish);
    return () => {
      unsubscribe('http.server.request.start', onStart);
      unsubscribe('http.server.response.finish', onFinish);
    };
  }

  /** One finished response: O(1), writes into the preallocated slots. */
  record(request: IncomingMessage, status: number): void {
    const url = request.url ?? '';
    if (url.charCodeAt(1) === 95 /* _ */ && unlogged(url)) return;
    const i = this.#next;
    const now = performance.now();
    const started = (request as StampedRequest)[STARTED_AT];
    this.#at[i] = TIME_ORIGIN + now;
    this.#latency[i] = started === undefined ? Number.NaN : now - started;
    this.#status[i] = status;
    this.#method[i] = request.method ?? '';
    this.#url[i] = url;
    const header = request.headers.authorization;
    // Clients send the same credentials again and again: comparing with the last header is cheaper than
    // hashing a fresh token. A 401 is resolved again (the token may have been revoked since).
    if (header !== undefined && header === this.#lastHeader && status !== 401) {
      this.#client[i] = this.#lastClient;
    } else {
      const client = this.#whoAsked(header);
      this.#client[i] = client;
      this.#lastHeader = header;
      this.#lastClient = client;
    }
    this.#next = i + 1 === this.capacity ? 0 : i + 1;
    if (this.#size < this.capacity) this.#size++;
  }

  get size(): number {
    return this.#size;
  }

  /** Newest first. */
  entries(): RequestLogEntry[] {
    const result: RequestLogEntry[] = [];
    for (let n = 1; n <= this.#size; n++) {
      const i = (this.#next - n + this.capacity) % this.capacity;
      const url = this.#url[i] ?? '';
      const query = url.indexOf('?');
      const path = query < 0 ? url : url.slice(0, query);
      const method = this.#method[i] ?? '';
      const client = this.#client[i] ?? this.#clientOfQuery(url, query);
      result.push({
        at: this.#at[i] ?? 0,
        method,
        path,
        status: this.#status[i] ?? 0,
        latencyMs: this.#latency[i] ?? 0,
        clientId: client === SIMULATOR_CALLER ? null : client,
        caller: client === null ? null : client === SIMULATOR_CALLER ? 'simulator' : 'app',
        scope: scopeOf(method, path),
      });
    }
    return result;
  }

  /** Connect pages name their app in the query (`client_id`); only known apps count. */
  #clientOfQuery(url: string, query: number): string | null {
    if (query < 0) return null;
    const clientId = new URLSearchParams(url.slice(query + 1)).get('client_id');
    return clientId !== null && this.#deps.store.apps.has(clientId) ? clientId : null;
  }

  /** The app whose credentials came with the request: bearer token, Basic client credentials or AMT. */
  #whoAsked(header: string | undefined): string | null {
    const { store } = this.#deps;
    if (header !== undefined) {
      const scheme = header.charCodeAt(0) | 32;
      if (scheme === 98 /* b */ && header.charCodeAt(6) === 32 && (header.charCodeAt(1) | 32) === 101) {
        // Bearer: a user's access token, an AMT (unsubscribe), the management token or a v3 app token.
        const token = header.slice(7);
        const access = store.accessTokens.get(token);
        if (access !== undefined) return store.grants.get(access.grantId)?.clientId ?? null;
        const amtApp = store.appsByManagementToken.get(token);
        if (amtApp !== undefined) return amtApp.clientId;
        if (safeEqual(token, this.#deps.managementToken)) return SIMULATOR_CALLER;
        return this.#deps.applicationTokenApp?.(token) ?? null;
      }
      if (scheme === 98 && header.charCodeAt(5) === 32) {
        // Basic: client credentials (token endpoint, compatibility) or `default:<AMT>` (management API).
        const basic = decodeBasic(header);
        if (basic === undefined) return null;
        const app = store.apps.get(basic.user);
        if (app !== undefined && safeEqual(app.clientSecret, basic.password)) return app.clientId;
        return store.appsByManagementToken.get(basic.password)?.clientId ?? null;
      }
      return null;
    }
    return null;
  }
}

const SIMULATOR_CALLER = '\u0000simulator';
const TIME_ORIGIN = performance.timeOrigin;
const STARTED_AT = Symbol('simulator request started at');
type StampedRequest = IncomingMessage & { [STARTED_AT]?: number };

interface ServerMessage {
  readonly request: IncomingMessage;
  readonly response: ServerResponse;
  readonly server: Server;
}

function unlogged(url: string): boolean {
  for (const prefix of UNLOGGED_PREFIXES) if (url.startsWith(prefix)) return true;
  return false;
}

const V3_COMMAND_SCOPES: Readonly<Record<string, string | null>> = {
  'charge/start': VEHICLE_ENDPOINTS.startCharge.scope,
  'charge/stop': VEHICLE_ENDPOINTS.stopCharge.scope,
  'charge/set-limit': VEHICLE_ENDPOINTS.setChargeLimit.scope,
  'security/lock': VEHICLE_ENDPOINTS.lock.scope,
  'security/unlock': VEHICLE_ENDPOINTS.unlock.scope,
};

/** The permission a vehicle endpoint needs, worked out from the method and path alone. */
export function scopeOf(method: string, path: string): string | null {
  const v2 = /^\/v2\.0\/vehicles\/[^/]+(\/.*)?$/.exec(path);
  if (v2 !== null) {
    const endpoint = resolveVehicleEndpoint(method, (v2[1] ?? '').slice(1));
    if (endpoint === undefined) return null;
    if (endpoint.name === 'batch') return 'per batch item';
    return endpoint.definition.scope;
  }
  const v3 = /^\/v3\/vehicles\/[^/]+(?:\/(signals|commands)(?:\/(.+))?)?$/.exec(path);
  if (v3 === null) return null;
  if (v3[1] === undefined) return VEHICLE_ENDPOINTS.attributes.scope;
  if (v3[1] === 'commands') return V3_COMMAND_SCOPES[v3[2] ?? ''] ?? null;
  const code = v3[2];
  if (code === undefined) return 'per signal';
  return isServedSignalCode(code) ? signalMeta(code).scope : null;
}
