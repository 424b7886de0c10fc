/**
 * A small real HTTP server that answers like Smartcar's v2.0 API (bodies from the wire reference), for the
 * client tests and the benchmark. Routes can be overridden per test; every request is recorded.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  COMMAND_SUCCESS,
  COMPATIBILITY_BODY,
  CONNECTIONS_BODY,
  DATA_AGE,
  DATA_BODIES,
  FETCHED_AT,
  MATRIX_BODY,
  USER_ID,
  VEHICLE_ID,
  errorBody,
} from './fixtures.ts';

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: string;
  /** Milliseconds since the server started. */
  at: number;
}

export interface Reply {
  status?: number;
  headers?: Record<string, string>;
  /** Serialised as JSON. */
  json?: unknown;
  /** Sent verbatim (wins over `json`). */
  raw?: string;
  delayMs?: number;
}

export type Handler = (request: RecordedRequest) => Reply | Promise<Reply>;

export interface TestServer {
  origin: string;
  requests: RecordedRequest[];
  /** Handles `METHOD path` (path may contain `*` for one segment) before the default routes. */
  override(method: string, path: string, handler: Handler): void;
  /** Issues a fresh token pair, as a completed Connect flow would. */
  issueTokens(expiresIn?: number): {
    access_token: string;
    refresh_token: string;
    expires_in: number;
    token_type: string;
  };
  /** Access and refresh tokens the server currently accepts. */
  validAccessTokens: Set<string>;
  validRefreshTokens: Set<string>;
  codes: Set<string>;
  clientId: string;
  clientSecret: string;
  amt: string;
  close(): Promise<void>;
}

const DATA_PATHS: Record<string, keyof typeof DATA_BODIES> = {
  '': 'attributes',
  '/vin': 'vin',
  '/location': 'location',
  '/odometer': 'odometer',
  '/battery': 'battery',
  '/battery/capacity': 'batteryCapacity',
  '/battery/nominal_capacity': 'nominalCapacity',
  '/charge': 'charge',
  '/charge/limit': 'getChargeLimit',
  '/fuel': 'fuel',
  '/tires/pressure': 'tirePressure',
  '/engine/oil': 'engineOil',
  '/security': 'lockStatus',
  '/diagnostics/system_status': 'diagnosticSystemStatus',
  '/diagnostics/dtcs': 'diagnosticTroubleCodes',
  '/service/history': 'serviceHistory',
  '/permissions': 'permissions',
};

const KM_PER_MILE = 1.609344;

function matches(pattern: string, path: string): boolean {
  const a = pattern.split('/');
  const b = path.split('/');
  return a.length === b.length && a.every((part, i) => part === '*' || part === b[i]);
}

function dataHeaders(unitSystem: string): Record<string, string> {
  return { 'sc-data-age': DATA_AGE, 'sc-fetched-at': FETCHED_AT, 'sc-unit-system': unitSystem };
}

/** A body in the requested unit system (distances in miles for imperial). */
function dataBody(name: keyof typeof DATA_BODIES, unitSystem: string): unknown {
  const body = DATA_BODIES[name];
  if (unitSystem !== 'imperial') return body;
  if (name === 'battery') return { ...DATA_BODIES.battery, range: DATA_BODIES.battery.range / KM_PER_MILE };
  if (name === 'odometer') return { distance: DATA_BODIES.odometer.distance / KM_PER_MILE };
  return body;
}

export async function startTestServer(): Promise<TestServer> {
  const started = Date.now();
  const overrides: { method: string; path: string; handler: Handler }[] = [];
  const state = {
    requests: [] as RecordedRequest[],
    validAccessTokens: new Set<string>(),
    validRefreshTokens: new Set<string>(),
    codes: new Set<string>(['test-code']),
    clientId: 'client-id-1',
    clientSecret: 'client-secret-very-secret',
    amt: 'amt-management-token',
  };

  const issueTokens = (expiresIn = 7200) => {
    const tokens = {
      access_token: randomUUID(),
      token_type: 'Bearer',
      expires_in: expiresIn,
      refresh_token: randomUUID(),
    };
    state.validAccessTokens.add(tokens.access_token);
    state.validRefreshTokens.add(tokens.refresh_token);
    return tokens;
  };

  const unauthenticated = (): Reply => ({
    status: 401,
    json: {
      ...errorBody(
        'AUTHENTICATION',
        null,
        401,
        'The authorization header is missing or malformed, or it contains invalid or expired authentication credentials. Please check for missing parameters, spelling and casing mistakes, and other syntax issues.',
      ),
      resolution: { type: 'REAUTHENTICATE' },
    },
  });

  const basicOk = (headers: IncomingHttpHeaders, user: string, password: string): boolean =>
    headers.authorization === `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

  function defaultRoute(request: RecordedRequest): Reply {
    const { method, path, headers } = request;
    if (method === 'POST' && path === '/oauth/token') {
      if (!basicOk(headers, state.clientId, state.clientSecret))
        return {
          status: 401,
          json: { error: 'invalid_client', error_description: 'Invalid client credentials.' },
        };
      const form = new URLSearchParams(request.body);
      if (form.get('grant_type') === 'authorization_code') {
        const code = form.get('code') ?? '';
        if (!state.codes.has(code))
          return {
            status: 400,
            json: { error: 'invalid_grant', error_description: 'Invalid or expired code.' },
          };
        state.codes.delete(code);
        return { json: issueTokens() };
      }
      if (form.get('grant_type') === 'refresh_token') {
        const token = form.get('refresh_token') ?? '';
        if (!state.validRefreshTokens.has(token))
          return {
            status: 400,
            json: { error: 'invalid_grant', error_description: 'Invalid refresh token.' },
          };
        state.validRefreshTokens.delete(token);
        return { json: issueTokens() };
      }
      return {
        status: 400,
        json: { error: 'unsupported_grant_type', error_description: 'Unsupported grant type.' },
      };
    }
    if (path === '/v2.0/compatibility' || path === '/v2.0/compatibility/matrix') {
      if (!basicOk(headers, state.clientId, state.clientSecret)) return unauthenticated();
      return { json: path.endsWith('matrix') ? MATRIX_BODY : COMPATIBILITY_BODY };
    }
    if (path === '/v2.0/management/connections') {
      if (!basicOk(headers, 'default', state.amt)) return unauthenticated();
      if (method === 'DELETE') return { json: { connections: [{ userId: USER_ID, vehicleId: VEHICLE_ID }] } };
      return { json: CONNECTIONS_BODY };
    }
    const webhook = /^\/v2\.0\/vehicles\/([^/]+)\/webhooks\/([^/]+)$/.exec(path);
    if (webhook !== null && method === 'DELETE') {
      if (headers.authorization !== `Bearer ${state.amt}`) return unauthenticated();
      return { json: { status: 'success' } };
    }

    const bearer =
      headers.authorization?.startsWith('Bearer ') === true ? headers.authorization.slice(7) : '';
    if (!state.validAccessTokens.has(bearer)) return unauthenticated();
    if (method === 'GET' && path === '/v2.0/user') return { json: { id: USER_ID } };
    if (method === 'GET' && path === '/v2.0/vehicles') {
      const all = [
        VEHICLE_ID,
        'f7d1c1a0-0000-4000-8000-000000000002',
        'f7d1c1a0-0000-4000-8000-000000000003',
      ];
      const offset = Number(request.query.get('offset') ?? 0);
      const limit = Number(request.query.get('limit') ?? 10);
      return { json: { paging: { count: all.length, offset }, vehicles: all.slice(offset, offset + limit) } };
    }
    const vehicle = /^\/v2\.0\/vehicles\/([^/]+)(\/.*)?$/.exec(path);
    if (vehicle === null) return { status: 404, json: errorBody('RESOURCE_NOT_FOUND', 'PATH', 404) };
    const sub = vehicle[2] ?? '';
    const unitSystem = headers['sc-unit-system'] === 'imperial' ? 'imperial' : 'metric';
    if (method === 'GET' && sub in DATA_PATHS) {
      const name = DATA_PATHS[sub]!;
      return { headers: dataHeaders(unitSystem), json: dataBody(name, unitSystem) };
    }
    if (
      method === 'POST' &&
      ['/security', '/charge', '/charge/limit', '/navigation/destination'].includes(sub)
    )
      return { json: COMMAND_SUCCESS };
    if (method === 'DELETE' && sub === '/application') return { json: { status: 'success' } };
    if (method === 'POST' && webhook !== null)
      return { json: { webhookId: webhook[2], vehicleId: webhook[1] } };
    if (method === 'POST' && sub === '/batch') {
      const { requests } = JSON.parse(request.body) as { requests: { path: string }[] };
      return {
        json: {
          responses: requests.map(({ path: itemPath }) => {
            const normalized = `/${itemPath.replace(/^\/+|\/+$/g, '')}`;
            const name = DATA_PATHS[normalized === '/' ? '' : normalized];
            return name === undefined
              ? {
                  path: normalized,
                  code: 404,
                  body: errorBody('RESOURCE_NOT_FOUND', 'PATH', 404),
                  headers: {},
                }
              : {
                  path: normalized,
                  code: 200,
                  body: dataBody(name, unitSystem),
                  headers: dataHeaders(unitSystem),
                };
          }),
        },
      };
    }
    return { status: 404, json: errorBody('RESOURCE_NOT_FOUND', 'PATH', 404) };
  }

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') : url.pathname;
      const recorded: RecordedRequest = {
        method: req.method ?? 'GET',
        path,
        query: url.searchParams,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        at: Date.now() - started,
      };
      state.requests.push(recorded);
      const override = overrides.find((o) => o.method === recorded.method && matches(o.path, path));
      Promise.resolve(override === undefined ? defaultRoute(recorded) : override.handler(recorded))
        .then(async (reply) => {
          if (reply.delayMs !== undefined) await new Promise((resolve) => setTimeout(resolve, reply.delayMs));
          if (res.destroyed) return;
          const body = reply.raw ?? (reply.json === undefined ? '' : JSON.stringify(reply.json));
          res.writeHead(reply.status ?? 200, {
            'content-type': 'application/json',
            'sc-request-id': randomUUID(),
            ...reply.headers,
          });
          res.end(body);
        })
        .catch((error: unknown) => {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(String(error));
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    origin: `http://127.0.0.1:${port}`,
    ...state,
    override: (method, path, handler) => overrides.unshift({ method, path, handler }),
    issueTokens,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error === undefined ? resolve() : reject(error)));
      }),
  };
}
