import { randomUUID } from 'node:crypto';
import type { Scope } from '@voltkit/core/permissions';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { findBrand, type BrandSpec } from '../catalog/brands.ts';
import { CONNECT_ERROR_EMAILS, parseScopeParam } from '../connect-rules.ts';
import { OAuthError, summarizeVehicle, type SimulatorEngine } from '../engine.ts';
import type { AppRecord, ConnectMode } from '../state/records.ts';
import { approvalPage, brandsPage, errorPage, preamblePage, signInPage } from './connect-html.ts';
import { headerValue, presentValue } from './reply.ts';

const SESSION_TTL_MS = 30 * 60_000;
const MAX_SESSIONS = 10_000;

/** One visit to Connect, from the authorize URL to the redirect. Kept in memory only. */
interface ConnectSession {
  readonly id: string;
  readonly app: AppRecord;
  /** `redirect_uri` exactly as given ('' when omitted); the token exchange must repeat it. */
  readonly redirectUri: string;
  /** Where the browser goes at the end. */
  readonly redirectTarget: string;
  readonly scopes: Scope[];
  readonly required: Scope[];
  readonly state: string | undefined;
  readonly mode: ConnectMode;
  readonly singleSelect: boolean;
  readonly singleSelectVin: string | undefined;
  brand: BrandSpec | undefined;
  accountId: string | undefined;
  readonly createdAt: number;
}

type FormBody = Record<string, string | string[] | undefined>;

function formValue(body: unknown, key: string): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const value = (body as FormBody)[key];
  return Array.isArray(value) ? value[0] : presentValue(value);
}

function formValues(body: unknown, key: string): string[] {
  if (typeof body !== 'object' || body === null) return [];
  const value = (body as FormBody)[key];
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

function html(reply: FastifyReply, status: number, body: string): FastifyReply {
  return reply
    .code(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .send(body);
}

function redirectWith(
  reply: FastifyReply,
  target: string,
  params: Record<string, string | undefined>,
): FastifyReply {
  const url = new URL(target);
  for (const [key, value] of Object.entries(params))
    if (value !== undefined) url.searchParams.set(key, value);
  return reply.code(303).header('location', url.toString()).header('cache-control', 'no-store').send();
}

function isAbsoluteUrl(value: string): boolean {
  try {
    new URL(value);
    return true;
  } catch {
    return false;
  }
}

/** Connect (`/oauth/authorize` and its pages) and the token endpoint. */
export function registerOAuthRoutes(app: FastifyInstance, engine: SimulatorEngine): void {
  const sessions = new Map<string, ConnectSession>();

  const openSession = (request: FastifyRequest<{ Params: { sid: string } }>, reply: FastifyReply) => {
    const session = sessions.get(request.params.sid);
    if (session === undefined || Date.now() - session.createdAt > SESSION_TTL_MS) {
      html(
        reply,
        400,
        errorPage('Session expired', 'This Connect session has expired. Please start again from the app.'),
      );
      return undefined;
    }
    return session;
  };

  const fail = (
    reply: FastifyReply,
    session: ConnectSession,
    error: string,
    description: string,
    extra = {},
  ) =>
    redirectWith(reply, session.redirectTarget, {
      error,
      error_description: description,
      ...extra,
      state: session.state,
    });

  app.get('/oauth/authorize', (request, reply) => {
    const q = request.query as Record<string, unknown>;
    const clientId = presentValue(q['client_id']);
    const client = clientId === undefined ? undefined : engine.store.apps.get(clientId);
    if (client === undefined) {
      return html(
        reply,
        400,
        errorPage('Unknown application', 'The client_id is missing or not registered.'),
      );
    }
    const redirectUri = presentValue(q['redirect_uri']) ?? '';
    const fallback = client.redirectUris.find((uri) => !uri.endsWith('*') && isAbsoluteUrl(uri));
    const redirectTarget = redirectUri === '' ? fallback : redirectUri;
    if (
      redirectTarget === undefined ||
      (redirectUri !== '' && !engine.redirectUriAllowed(client, redirectUri)) ||
      !isAbsoluteUrl(redirectTarget)
    ) {
      return html(
        reply,
        400,
        errorPage('Invalid redirect URI', 'The redirect_uri is not registered for this application.'),
      );
    }
    const state = presentValue(q['state']);
    const configError = (description: string) =>
      redirectWith(reply, redirectTarget, {
        error: 'configuration_error',
        error_description: description,
        state,
      });

    if (presentValue(q['response_type']) !== 'code') return configError('response_type must be "code".');
    const legacyTest = presentValue(q['test_mode']) === 'true';
    const mode = presentValue(q['mode']) ?? (legacyTest ? 'test' : 'live');
    if (mode !== 'live' && mode !== 'test' && mode !== 'simulated') {
      return configError('mode must be one of live, test, simulated.');
    }
    const approvalPrompt = presentValue(q['approval_prompt']) ?? 'auto';
    if (approvalPrompt !== 'auto' && approvalPrompt !== 'force') {
      return configError('approval_prompt must be auto or force.');
    }
    const scope = parseScopeParam(presentValue(q['scope']));
    if ('unknown' in scope) return configError(`Unknown permissions: ${scope.unknown.join(', ')}.`);
    const singleSelectVin = presentValue(q['single_select_vin']);
    const singleSelect = presentValue(q['single_select']) === 'true' || singleSelectVin !== undefined;
    const makeParam = presentValue(q['make']);
    // single_select_vin wins over make: the VIN's brand skips the picker.
    const vinVehicle =
      singleSelectVin === undefined ? undefined : engine.store.findVehicleByVin(singleSelectVin);
    const brand =
      vinVehicle !== undefined
        ? findBrand(vinVehicle.make)
        : makeParam === undefined
          ? undefined
          : findBrand(makeParam);

    if (sessions.size >= MAX_SESSIONS) {
      const cutoff = Date.now() - SESSION_TTL_MS;
      for (const [id, s] of sessions) if (s.createdAt < cutoff) sessions.delete(id);
      if (sessions.size >= MAX_SESSIONS) sessions.delete(sessions.keys().next().value ?? '');
    }
    const session: ConnectSession = {
      id: randomUUID(),
      app: client,
      redirectUri,
      redirectTarget,
      scopes: scope.scopes,
      required: scope.required,
      state,
      mode,
      singleSelect,
      singleSelectVin,
      brand,
      accountId: undefined,
      createdAt: Date.now(),
    };
    sessions.set(session.id, session);
    // The `make` parameter bypasses the brand picker.
    const next = brand === undefined ? `/connect/${session.id}/brands` : `/connect/${session.id}/login`;
    return html(reply, 200, preamblePage({ sessionId: session.id, appName: client.name, next, mode }));
  });

  app.get<{ Params: { sid: string } }>('/connect/:sid/brands', (request, reply) => {
    const session = openSession(request, reply);
    if (session === undefined) return reply;
    return html(reply, 200, brandsPage({ sessionId: session.id, brands: engine.brands() }));
  });

  app.post<{ Params: { sid: string } }>('/connect/:sid/brand', (request, reply) => {
    const session = openSession(request, reply);
    if (session === undefined) return reply;
    const brand = findBrand(formValue(request.body, 'brand') ?? '');
    if (brand === undefined)
      return reply.code(303).header('location', `/connect/${session.id}/brands`).send();
    session.brand = brand;
    return reply.code(303).header('location', `/connect/${session.id}/login`).send();
  });

  app.get<{ Params: { sid: string } }>('/connect/:sid/login', (request, reply) => {
    const session = openSession(request, reply);
    if (session === undefined) return reply;
    if (session.brand === undefined)
      return reply.code(303).header('location', `/connect/${session.id}/brands`).send();
    return html(reply, 200, signInPage({ sessionId: session.id, brand: session.brand }));
  });

  app.post<{ Params: { sid: string } }>('/connect/:sid/login', (request, reply) => {
    const session = openSession(request, reply);
    if (session === undefined) return reply;
    const brand = session.brand;
    if (brand === undefined)
      return reply.code(303).header('location', `/connect/${session.id}/brands`).send();
    const email = (formValue(request.body, 'username') ?? '').trim();
    const password = formValue(request.body, 'password') ?? '';
    const connectError = CONNECT_ERROR_EMAILS[email.toLowerCase()];
    if (connectError !== undefined && session.mode !== 'live') {
      const model = brand.models[0];
      const extra =
        connectError === 'vehicle_incompatible' && model !== undefined
          ? { make: brand.make, model: model.model, year: String(model.startYear), vin: '0SCINCOMPATIBLE01' }
          : {};
      return fail(
        reply,
        session,
        connectError,
        `Test-mode account ${email} triggers ${connectError}.`,
        extra,
      );
    }
    const result = engine.signIn({ email, password, mode: session.mode, brand });
    if (!result.ok)
      return html(reply, 401, signInPage({ sessionId: session.id, brand, error: result.message, email }));
    session.accountId = result.account.id;
    return reply.code(303).header('location', `/connect/${session.id}/approve`).send();
  });

  const selectableVehicles = (session: ConnectSession) => {
    if (session.accountId === undefined || session.brand === undefined) return [];
    const make = session.brand.make;
    return engine.store
      .vehiclesOfAccount(session.accountId)
      .filter(
        (v) =>
          v.make === make && (session.singleSelectVin === undefined || v.vin === session.singleSelectVin),
      )
      .map(summarizeVehicle);
  };

  const renderApproval = (reply: FastifyReply, session: ConnectSession, status: number, error?: string) => {
    const input: Parameters<typeof approvalPage>[0] = {
      sessionId: session.id,
      appName: session.app.name,
      vehicles: selectableVehicles(session),
      scopes: session.scopes,
      required: session.required,
      singleSelect: session.singleSelect,
    };
    if (error !== undefined) input.error = error;
    return html(reply, status, approvalPage(input));
  };

  app.get<{ Params: { sid: string } }>('/connect/:sid/approve', (request, reply) => {
    const session = openSession(request, reply);
    if (session === undefined) return reply;
    if (session.accountId === undefined)
      return reply.code(303).header('location', `/connect/${session.id}/login`).send();
    if (selectableVehicles(session).length === 0) {
      return fail(
        reply,
        session,
        'no_vehicles',
        'The account has no vehicle this application can connect to.',
      );
    }
    return renderApproval(reply, session, 200);
  });

  app.post<{ Params: { sid: string } }>('/connect/:sid/approve', (request, reply) => {
    const session = openSession(request, reply);
    if (session === undefined) return reply;
    if (session.accountId === undefined)
      return reply.code(303).header('location', `/connect/${session.id}/login`).send();
    if (formValue(request.body, 'action') !== 'approve') {
      sessions.delete(session.id);
      return fail(reply, session, 'access_denied', 'The user denied access to your application.');
    }
    const allowed = new Set(selectableVehicles(session).map((v) => v.id));
    const chosen = formValues(request.body, 'vehicle').filter((id) => allowed.has(id));
    const vehicleIds = session.singleSelect ? chosen.slice(0, 1) : chosen;
    if (vehicleIds.length === 0)
      return renderApproval(reply, session, 400, 'Please select at least one vehicle.');
    const code = engine.approve({
      clientId: session.app.clientId,
      userId: session.accountId,
      vehicleIds,
      scopes: session.scopes,
      redirectUri: session.redirectUri,
      mode: session.mode,
    });
    sessions.delete(session.id);
    return redirectWith(reply, session.redirectTarget, { code, state: session.state });
  });

  app.post('/oauth/token', (request, reply) => {
    const body = request.body;
    const authorization = headerValue(request, 'authorization');
    let client = engine.authenticateClient(authorization);
    // OAuth also allows client credentials in the form body.
    const bodyId = formValue(body, 'client_id');
    const bodySecret = formValue(body, 'client_secret');
    if (
      client === undefined &&
      authorization === undefined &&
      bodyId !== undefined &&
      bodySecret !== undefined
    ) {
      client = engine.authenticateClient(
        `Basic ${Buffer.from(`${bodyId}:${bodySecret}`).toString('base64')}`,
      );
    }
    if (client === undefined) throw new OAuthError(401, 'invalid_client', 'Invalid client credentials.');
    const grantType = formValue(body, 'grant_type');
    const tokens =
      grantType === 'authorization_code'
        ? engine.exchangeCode(client, formValue(body, 'code'), formValues(body, 'redirect_uri')[0])
        : grantType === 'refresh_token'
          ? engine.refresh(client, formValue(body, 'refresh_token'))
          : undefined;
    if (tokens === undefined) {
      throw new OAuthError(
        400,
        'unsupported_grant_type',
        'grant_type must be authorization_code or refresh_token.',
      );
    }
    return reply
      .code(200)
      .header('content-type', 'application/json; charset=utf-8')
      .header('cache-control', 'no-store')
      .header('sc-request-id', request.id)
      .send(JSON.stringify(tokens));
  });
}
