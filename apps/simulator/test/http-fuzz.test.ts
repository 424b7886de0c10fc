import fc from 'fast-check';
import { ERROR_TYPES } from '@voltkit/core/types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createSimulator, type Simulator } from '@voltkit/simulator';
import { CookieJar, formFields } from './helpers.ts';

/**
 * Property-based fuzzing of the simulator's HTTP boundary: the token endpoint, Connect (authorize and its
 * form posts) and the vehicle API get generated requests that must all be refused. Each one must answer
 * below 500 (or a documented 501 COMPATIBILITY), with the documented error body of its surface, and leave
 * the state of a legitimate owner and app untouched.
 */

const REDIRECT = 'https://example.com/auth';
const RUNS = 120;
let sim: Simulator;
let accessToken: string;
let refreshToken: string;
let vehicleId: string;
let otherApp: { clientId: string; clientSecret: string };
let consent: { jar: CookieJar; sid: string; html: string };

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

/** Smartcar's v2.0 error body, exactly: every key, the status repeated, a request id, a docs URL. */
function expectApiErrorBody(status: number, text: string, contentType: string | null): void {
  expect(contentType).toContain('application/json');
  const body = z
    .object({
      type: z.string().refine((type) => Object.hasOwn(ERROR_TYPES, type)),
      code: z.string().nullable(),
      description: z.string().min(1),
      docURL: z.string().startsWith('https://smartcar.com/docs/errors/'),
      statusCode: z.literal(status),
      requestId: z.uuid(),
      resolution: z.object({ type: z.string().nullable() }).strict(),
      suggestedUserMessage: z.string().min(1),
      detail: z
        .array(z.object({ field: z.array(z.union([z.string(), z.number()])), message: z.string() }))
        .optional(),
    })
    .strict()
    .safeParse(JSON.parse(text));
  expect(body.success, text).toBe(true);
}

/** The v3 form: `{errors: [{status, type, code, title, detail, links, resolution, suggestedUserMessage}]}`. */
function expectV3ErrorBody(status: number, text: string, contentType: string | null): void {
  expect(contentType).toContain('application/json');
  const body = z
    .object({
      errors: z
        .array(
          z
            .object({
              status: z.literal(String(status)),
              type: z.string().refine((type) => Object.hasOwn(ERROR_TYPES, type)),
              code: z.string().nullable(),
              title: z.string().min(1),
              detail: z.string().min(1),
              links: z.object({ about: z.string().startsWith('https://smartcar.com/docs/errors/') }).strict(),
              resolution: z.object({ type: z.string().nullable() }).strict(),
              suggestedUserMessage: z.string().min(1),
            })
            .strict(),
        )
        .length(1),
    })
    .strict()
    .safeParse(JSON.parse(text));
  expect(body.success, text).toBe(true);
}

const OAUTH_ERRORS = ['invalid_client', 'invalid_grant', 'invalid_request', 'unsupported_grant_type'];

function expectOAuthErrorBody(text: string, contentType: string | null): void {
  expect(contentType).toContain('application/json');
  const body = z
    .object({ error: z.enum(OAUTH_ERRORS), error_description: z.string().min(1) })
    .strict()
    .safeParse(JSON.parse(text));
  expect(body.success, text).toBe(true);
}

/** What a legitimate owner and app have: their connections, the car's state and a working token. */
async function fingerprint(): Promise<string> {
  const connections = await fetch(`${sim.url}/v2.0/management/connections?limit=100`, {
    headers: { authorization: basic('default', sim.demoApp.managementToken) },
  });
  const all = await fetch(`${sim.url}/_simulator/vehicles`, {
    headers: { authorization: `Bearer ${sim.managementToken}` },
  });
  const vehicle = sim.vehicle(vehicleId);
  const api = await fetch(`${sim.url}/v2.0/vehicles/${vehicleId}/permissions`, {
    headers: { authorization: `Bearer ${accessToken}` },
  });
  expect([connections.status, all.status, api.status]).toEqual([200, 200, 200]);
  return JSON.stringify({
    connections: [connections.status, await connections.json()],
    vehicles: await all.json(),
    state: { ...vehicle.state, recordedAt: 0, updatedAt: 0 },
    forcedError: vehicle.forcedError,
    api: [api.status, await api.json()],
  });
}

beforeAll(async () => {
  sim = await createSimulator({ clock: { mode: 'manual', start: new Date('2025-10-01T00:00:00Z') } });
  const granted = sim.authorize({
    clientId: sim.demoApp.clientId,
    redirectUri: REDIRECT,
    scope: 'read_vin read_battery read_charge control_charge control_security',
    email: 'fuzz-owner@example.com',
    make: 'TESLA',
  });
  vehicleId = granted.vehicleIds[0] ?? '';
  const exchanged = await fetch(`${sim.url}/oauth/token`, {
    method: 'POST',
    headers: {
      authorization: basic(sim.demoApp.clientId, sim.demoApp.clientSecret),
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: granted.code,
      redirect_uri: REDIRECT,
    }).toString(),
  });
  const tokens = (await exchanged.json()) as { access_token: string; refresh_token: string };
  accessToken = tokens.access_token;
  refreshToken = tokens.refresh_token;
  otherApp = sim.registerApp({ name: 'Other', redirectUris: [REDIRECT] });
  // An owner half-way through Connect, at the consent page.
  const jar = new CookieJar();
  const preamble = await jar.get(
    `${sim.url}/oauth/authorize?response_type=code&client_id=${sim.demoApp.clientId}&redirect_uri=${encodeURIComponent(REDIRECT)}&mode=simulated&make=TESLA&scope=read_vin`,
  );
  const sid = /\/connect\/([0-9a-f-]{36})\//.exec(preamble.text)?.[1] ?? '';
  const login = await jar.get(`${sim.url}/connect/${sid}/login`);
  await jar.post(`${sim.url}/connect/${sid}/login`, [
    ...formFields(login.text),
    ['username', 'fuzz-connect@example.com'],
    ['password', 'x'],
  ]);
  const page = await jar.get(`${sim.url}/connect/${sid}/approve`);
  expect(page.status).toBe(200);
  consent = { jar, sid, html: page.text };
});

afterAll(async () => {
  // The legitimate parties kept everything: the refresh token still rotates, the consent still completes.
  const refreshed = await fetch(`${sim.url}/oauth/token`, {
    method: 'POST',
    headers: {
      authorization: basic(sim.demoApp.clientId, sim.demoApp.clientSecret),
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }).toString(),
  });
  expect(refreshed.status).toBe(200);
  const approved = await consent.jar.post(`${sim.url}/connect/${consent.sid}/approve`, [
    ...formFields(consent.html),
    ['action', 'approve'],
  ]);
  expect(approved.status).toBe(303);
  expect(new URL(approved.headers.get('location') ?? '').searchParams.get('code')).toMatch(/^[0-9a-f-]{36}$/);
  await sim.close();
});

/** Strings an attacker likes: empty, huge, control characters, encodings, injections, near-valid values. */
const nasty = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(
    '',
    'undefined',
    'null',
    '%00',
    '%E0%A4%A',
    '../../etc/passwd',
    '<script>alert(1)</script>',
    "' OR 1=1 --",
    '{"$gt":""}',
    'a'.repeat(3000),
    'http://localhost:@evil.example/steal',
    'https://example.com/auth#frag',
    'required:read_battery',
    '00000000-0000-4000-8000-000000000000',
  ),
  fc.uuid(),
);

describe('fuzzing the token endpoint', () => {
  it('answers every forged token request with an OAuth error body and changes nothing', async () => {
    const before = await fingerprint();
    await fc.assert(
      fc.asyncProperty(
        fc.record(
          {
            grant_type: fc.oneof(
              fc.constantFrom('authorization_code', 'refresh_token', 'password', 'client_credentials'),
              nasty,
            ),
            code: nasty,
            refresh_token: nasty,
            redirect_uri: fc.oneof(fc.constant(REDIRECT), nasty),
            client_id: fc.oneof(fc.constant(sim.demoApp.clientId), nasty),
            client_secret: nasty,
            scope: nasty,
          },
          { requiredKeys: [] },
        ),
        fc.constantFrom('demo', 'other', 'wrong-secret', 'garbage', 'none'),
        fc.constantFrom(
          'application/x-www-form-urlencoded',
          'application/json',
          'text/plain',
          'multipart/form-data',
        ),
        async (form, auth, contentType) => {
          const headers: Record<string, string> = { 'content-type': contentType };
          if (auth === 'demo')
            headers['authorization'] = basic(sim.demoApp.clientId, sim.demoApp.clientSecret);
          if (auth === 'other') headers['authorization'] = basic(otherApp.clientId, otherApp.clientSecret);
          if (auth === 'wrong-secret') headers['authorization'] = basic(sim.demoApp.clientId, 'nope');
          if (auth === 'garbage') headers['authorization'] = 'Basic %%%not-base64';
          const body =
            contentType === 'application/json' ? JSON.stringify(form) : new URLSearchParams(form).toString();
          const response = await fetch(`${sim.url}/oauth/token`, { method: 'POST', headers, body });
          const text = await response.text();
          expect(response.status).toBeGreaterThanOrEqual(400);
          expect(response.status).toBeLessThan(500);
          expectOAuthErrorBody(text, response.headers.get('content-type'));
          expect(text).not.toContain(accessToken);
        },
      ),
      { numRuns: RUNS },
    );
    expect(await fingerprint()).toBe(before);
  });
});

describe('fuzzing Connect', () => {
  it('never redirects to a URI that is not registered, and never answers 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record(
          {
            response_type: fc.oneof(fc.constant('code'), nasty),
            client_id: fc.oneof(fc.constant(sim.demoApp.clientId), nasty),
            redirect_uri: fc.oneof(
              fc.constantFrom(REDIRECT, 'http://127.0.0.1:9/callback', 'http://localhost/connect/callback'),
              nasty,
              nasty.map((tail) => `${REDIRECT}${tail}`),
              nasty.map((tail) => `http://localhost:${tail}`),
            ),
            scope: nasty,
            state: nasty,
            mode: fc.oneof(fc.constantFrom('live', 'test', 'simulated'), nasty),
            approval_prompt: nasty,
            make: nasty,
            single_select_vin: nasty,
          },
          { requiredKeys: [] },
        ),
        fc.boolean(),
        async (params, repeatRedirect) => {
          const query = new URLSearchParams(params);
          if (repeatRedirect) query.append('redirect_uri', 'https://evil.example/');
          const response = await fetch(`${sim.url}/oauth/authorize?${query.toString()}`, {
            redirect: 'manual',
          });
          const text = await response.text();
          expect(response.status).toBeLessThan(500);
          expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
          const location = response.headers.get('location');
          if (location === null) {
            expect([200, 400]).toContain(response.status);
            expect(response.headers.get('content-type')).toContain('text/html');
            if (response.status === 400) expect(text).toContain('<p class="error">');
            return;
          }
          // A redirect goes only to the exact registered URI the request named (loopback: any port).
          expect(response.status).toBe(303);
          expect(repeatRedirect).toBe(false);
          const target = new URL(location);
          // Absent (or the SDKs' literal 'undefined' / 'null'): the app's first registered URI.
          const given = ['', 'undefined', 'null', undefined].includes(params.redirect_uri)
            ? REDIRECT
            : (params.redirect_uri ?? REDIRECT);
          expect(location.startsWith(given)).toBe(true);
          expect(['https://example.com', 'http://127.0.0.1:9', 'http://localhost']).toContain(target.origin);
          expect(target.searchParams.get('error')).toBe('configuration_error');
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('refuses every form post that lacks the browser cookie or the CSRF token, leaving the session as it was', async () => {
    const before = await fingerprint();
    const real = formFields(consent.html);
    const csrf = real.find(([name]) => name === 'csrf_token')?.[1] ?? '';
    const cookie = consent.jar.header(`${sim.url}/connect/${consent.sid}/approve`);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('brand', 'login', 'approve'),
        fc.constantFrom('none', 'forged', 'real'),
        fc.constantFrom('none', 'forged', 'real'),
        fc.array(
          fc.tuple(
            fc.constantFrom('action', 'vehicle', 'scope', 'brand', 'username', 'password', 'csrf_token', 'x'),
            nasty,
          ),
          {
            maxLength: 6,
          },
        ),
        fc.oneof(fc.constant(consent.sid), fc.uuid(), nasty),
        async (step, withCookie, withToken, fields, sid) => {
          fc.pre(!(withCookie === 'real' && withToken === 'real' && sid === consent.sid));
          const form: [string, string][] = fields.filter(([name]) => name !== 'csrf_token');
          if (withToken !== 'none') form.push(['csrf_token', withToken === 'real' ? csrf : 'forged-token']);
          const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
          if (withCookie !== 'none') headers['cookie'] = withCookie === 'real' ? cookie : 'vk_connect=forged';
          const response = await fetch(`${sim.url}/connect/${encodeURIComponent(sid)}/${step}`, {
            method: 'POST',
            redirect: 'manual',
            headers,
            body: new URLSearchParams(form).toString(),
          });
          const text = await response.text();
          expect(response.headers.get('location')).toBeNull();
          expect(response.status).toBeGreaterThanOrEqual(400);
          expect(response.status).toBeLessThan(500);
          expect(response.headers.get('content-type')).toContain('text/html');
          expect(text).toContain('<p class="error">');
        },
      ),
      { numRuns: RUNS },
    );
    expect(await fingerprint()).toBe(before);
  });
});

describe('fuzzing the vehicle API', () => {
  const segment = fc.oneof(
    fc.constantFrom(
      'battery',
      'charge',
      'security',
      'vin',
      'odometer',
      'batch',
      'permissions',
      'webhooks',
      'application',
      'limit',
      '',
    ),
    fc.string({ maxLength: 12 }).map(encodeURIComponent),
    fc.constantFrom('%zz', '%E0%A4%A', '..', '%2e%2e', 'a'.repeat(600), '%00'),
  );

  it('answers generated requests with the documented error body (or real data), never 5xx, and changes nothing', async () => {
    const before = await fingerprint();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'POST', 'DELETE', 'PUT', 'PATCH'),
        fc.constantFrom('/v2.0/vehicles', '/v2.0', '/v1.0/vehicles', '/v3/vehicles', '/v2.0/management', ''),
        fc.oneof(fc.constant(vehicleId), nasty.map(encodeURIComponent), segment),
        fc.array(segment, { maxLength: 3 }),
        fc.constantFrom('legit', 'none', 'garbage', 'basic'),
        fc.oneof(
          fc.constant(undefined),
          fc.json(),
          nasty,
          fc.constantFrom(
            '{"action":"STOP"}',
            '{"action":"UNLOCK"}',
            '{"limit":0.8}',
            '{"requests":[{"path":"/battery"}]}',
          ),
        ),
        async (method, prefix, id, rest, auth, body) => {
          const path = `${prefix}/${id}${rest.map((s) => `/${s}`).join('')}`;
          // The legitimate token may read, but a valid command with it would rightly change the car.
          const mayChange = auth === 'legit' && method !== 'GET';
          const headers: Record<string, string> = { 'content-type': 'application/json' };
          if (auth === 'legit' && !mayChange) headers['authorization'] = `Bearer ${accessToken}`;
          if (auth === 'garbage') headers['authorization'] = `Bearer ${id}`;
          if (auth === 'basic') headers['authorization'] = basic(otherApp.clientId, otherApp.clientSecret);
          const response = await fetch(`${sim.url}${path}`, {
            method,
            headers,
            ...(body === undefined || method === 'GET' ? {} : { body }),
          });
          const text = await response.text();
          const v3 = path.startsWith('/v3/');
          const parsed =
            response.status >= 400
              ? (JSON.parse(text) as { type?: string; errors?: { type: string }[] })
              : {};
          const type = v3 ? parsed.errors?.[0]?.type : parsed.type;
          expect(
            response.status < 500 || type === 'COMPATIBILITY',
            `${method} ${path} → ${response.status}`,
          ).toBe(true);
          if (response.status >= 400) {
            const check = v3 ? expectV3ErrorBody : expectApiErrorBody;
            check(response.status, text, response.headers.get('content-type'));
          }
        },
      ),
      { numRuns: RUNS * 2 },
    );
    expect(await fingerprint()).toBe(before);
  });
});
