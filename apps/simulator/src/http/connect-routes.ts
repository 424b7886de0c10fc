import type { Scope } from '@voltkit/core/permissions';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { findBrand, type BrandSpec } from '../catalog/brands.ts';
import { CONNECT_ERROR_EMAILS, parseScopeParam } from '../connect-rules.ts';
import { summarizeVehicle, type SimulatorEngine } from '../engine.ts';
import { ConnectSessions } from '../oauth/connect-session.ts';
import { redirectUriAllowed, redirectUriProblem } from '../oauth/redirect-uri.ts';
import type { AppRecord, ConnectSessionRecord, VehicleRecord } from '../state/records.ts';
import {
  approvalPage,
  brandsPage,
  connectHeaders,
  errorPage,
  preamblePage,
  signInPage,
} from './connect-html.ts';
import { formValue, formValues } from './form.ts';
import { headerValue, presentValue } from './reply.ts';

function html(reply: FastifyReply, status: number, body: string): FastifyReply {
  return connectHeaders(reply).code(status).header('content-type', 'text/html; charset=utf-8').send(body);
}

function seeOther(reply: FastifyReply, location: string): FastifyReply {
  return connectHeaders(reply).code(303).header('location', location).send();
}

function redirectWith(
  reply: FastifyReply,
  target: string,
  params: Record<string, string | null | undefined>,
): FastifyReply {
  const url = new URL(target);
  for (const [key, value] of Object.entries(params))
    if (value !== undefined && value !== null) url.searchParams.set(key, value);
  return seeOther(reply, url.toString());
}

/** Connect: `/oauth/authorize` and its pages. */
export function registerConnectRoutes(app: FastifyInstance, engine: SimulatorEngine): void {
  const sessions = new ConnectSessions(engine.store);

  const appOf = (session: ConnectSessionRecord): AppRecord | undefined =>
    engine.store.apps.get(session.clientId);

  /** The session of the request's browser, or an error page (never a redirect) and undefined. */
  const openSession = (
    request: FastifyRequest<{ Params: { sid: string } }>,
    reply: FastifyReply,
  ): { session: ConnectSessionRecord; client: AppRecord } | undefined => {
    const found = sessions.find(request.params.sid, headerValue(request, 'cookie'));
    const client = typeof found === 'string' ? undefined : appOf(found);
    if (found === 'expired' || (typeof found !== 'string' && client === undefined)) {
      html(
        reply,
        400,
        errorPage('Session expired', 'This Connect session has expired. Please start again from the app.'),
      );
      return undefined;
    }
    if (found === 'foreign' || client === undefined) {
      html(
        reply,
        403,
        errorPage(
          'Session not started in this browser',
          'This Connect session was started in another browser. For your safety, please start again from the app.',
        ),
      );
      return undefined;
    }
    return { session: found, client };
  };

  /** As `openSession`, for form posts: the session's CSRF token must come with the form. */
  const postedSession = (
    request: FastifyRequest<{ Params: { sid: string } }>,
    reply: FastifyReply,
  ): { session: ConnectSessionRecord; client: AppRecord } | undefined => {
    const opened = openSession(request, reply);
    if (opened === undefined) return undefined;
    if (!sessions.csrfValid(opened.session, formValue(request.body, 'csrf_token'))) {
      html(
        reply,
        403,
        errorPage(
          'Request not accepted',
          'This form was not sent from the Connect page. Please go back and try again.',
          opened.client.name,
        ),
      );
      return undefined;
    }
    return opened;
  };

  const fail = (
    reply: FastifyReply,
    session: ConnectSessionRecord,
    error: string,
    description: string,
    extra: Record<string, string> = {},
  ) => {
    sessions.close(session);
    return redirectWith(reply, session.redirectTarget, {
      error,
      error_description: description,
      ...extra,
      state: session.state,
    });
  };

  const brandOf = (session: ConnectSessionRecord): BrandSpec | undefined =>
    session.brand === null ? undefined : findBrand(session.brand);

  app.get('/oauth/authorize', (request, reply) => {
    const q = request.query as Record<string, unknown>;
    // A parameter given twice is malformed (RFC 6749 §3.1); which copy counts is not ours to guess.
    const repeated = Object.keys(q).filter((key) => Array.isArray(q[key]));
    const value = (key: string) => presentValue(q[key]);
    const clientId = value('client_id');
    const client = clientId === undefined ? undefined : engine.store.apps.get(clientId);
    if (client === undefined || repeated.includes('client_id')) {
      return html(
        reply,
        400,
        errorPage('Unknown application', 'The client_id is missing or not registered.'),
      );
    }
    const redirectUri = value('redirect_uri') ?? '';
    // Without one, the app's first URI that is still valid (a snapshot may hold older registrations).
    const fallback = client.redirectUris.find((uri) => redirectUriProblem(uri) === undefined);
    const redirectTarget = redirectUri === '' ? fallback : redirectUri;
    if (
      repeated.includes('redirect_uri') ||
      redirectTarget === undefined ||
      !redirectUriAllowed(client.redirectUris, redirectTarget) ||
      redirectUriProblem(redirectTarget) !== undefined
    ) {
      return html(
        reply,
        400,
        errorPage(
          'Invalid redirect URI',
          'The redirect_uri is not registered for this application, so Connect cannot return you to it.',
          client.name,
        ),
      );
    }
    // From here on the redirect URI is known good: problems go back to the app (RFC 6749 §4.1.2.1).
    const state = value('state');
    const configError = (description: string) =>
      redirectWith(reply, redirectTarget, {
        error: 'configuration_error',
        error_description: description,
        state,
      });
    if (repeated.length > 0) return configError(`Parameters given more than once: ${repeated.join(', ')}.`);

    if (value('response_type') !== 'code') return configError('response_type must be "code".');
    const legacyTest = value('test_mode') === 'true';
    const mode = value('mode') ?? (legacyTest ? 'test' : 'live');
    if (mode !== 'live' && mode !== 'test' && mode !== 'simulated') {
      return configError('mode must be one of live, test, simulated.');
    }
    const approvalPrompt = value('approval_prompt') ?? 'auto';
    if (approvalPrompt !== 'auto' && approvalPrompt !== 'force') {
      return configError('approval_prompt must be auto or force.');
    }
    const scope = parseScopeParam(value('scope'));
    if ('unknown' in scope) return configError(`Unknown permissions: ${scope.unknown.join(', ')}.`);
    const singleSelectVin = value('single_select_vin');
    const singleSelect = value('single_select') === 'true' || singleSelectVin !== undefined;
    const makeParam = value('make');
    // single_select_vin wins over make: the VIN's brand skips the picker.
    const vinVehicle =
      singleSelectVin === undefined ? undefined : engine.store.findVehicleByVin(singleSelectVin);
    const brand =
      vinVehicle !== undefined
        ? findBrand(vinVehicle.make)
        : makeParam === undefined
          ? undefined
          : findBrand(makeParam);

    const { session, browserSecret } = sessions.open({
      clientId: client.clientId,
      redirectUri,
      redirectTarget,
      scopes: scope.scopes,
      required: scope.required,
      state: state ?? null,
      mode,
      approvalPrompt,
      singleSelect,
      singleSelectVin: singleSelectVin ?? null,
      brand: brand?.make ?? null,
      accountId: null,
    });
    reply.header('set-cookie', sessions.cookieHeader(session, browserSecret));
    // The `make` parameter bypasses the brand picker.
    const next = brand === undefined ? `/connect/${session.id}/brands` : `/connect/${session.id}/login`;
    return html(reply, 200, preamblePage({ sessionId: session.id, appName: client.name, next, mode }));
  });

  app.get<{ Params: { sid: string } }>('/connect/:sid/brands', (request, reply) => {
    const opened = openSession(request, reply);
    if (opened === undefined) return reply;
    const { session, client } = opened;
    return html(
      reply,
      200,
      brandsPage({
        sessionId: session.id,
        appName: client.name,
        csrfToken: session.csrfToken,
        brands: engine.brands(),
      }),
    );
  });

  app.post<{ Params: { sid: string } }>('/connect/:sid/brand', (request, reply) => {
    const opened = postedSession(request, reply);
    if (opened === undefined) return reply;
    const { session } = opened;
    const brand = findBrand(formValue(request.body, 'brand') ?? '');
    if (brand === undefined) return seeOther(reply, `/connect/${session.id}/brands`);
    sessions.update(session, { brand: brand.make, accountId: null });
    return seeOther(reply, `/connect/${session.id}/login`);
  });

  app.get<{ Params: { sid: string } }>('/connect/:sid/login', (request, reply) => {
    const opened = openSession(request, reply);
    if (opened === undefined) return reply;
    const { session, client } = opened;
    const brand = brandOf(session);
    if (brand === undefined) return seeOther(reply, `/connect/${session.id}/brands`);
    return html(
      reply,
      200,
      signInPage({ sessionId: session.id, appName: client.name, csrfToken: session.csrfToken, brand }),
    );
  });

  /** The account's vehicles of the session's brand, split by whether they serve the required scopes. */
  const vehicleChoice = (session: ConnectSessionRecord) => {
    const brand = brandOf(session);
    if (session.accountId === null || brand === undefined) return { offered: [], unavailable: [] };
    const ofBrand = engine.store
      .vehiclesOfAccount(session.accountId)
      .filter(
        (v) =>
          v.make === brand.make && (session.singleSelectVin === null || v.vin === session.singleSelectVin),
      );
    const offered = engine.consent.compatibleVehicles(ofBrand, session.required, session.mode);
    return { offered, unavailable: ofBrand.filter((v) => !offered.includes(v)) };
  };

  const incompatible = (reply: FastifyReply, session: ConnectSessionRecord, vehicle: VehicleRecord) =>
    fail(
      reply,
      session,
      'vehicle_incompatible',
      `The vehicle cannot provide the required permissions: ${session.required.join(', ')}.`,
      { make: vehicle.make, model: vehicle.model, year: String(vehicle.year), vin: vehicle.vin },
    );

  app.post<{ Params: { sid: string } }>('/connect/:sid/login', (request, reply) => {
    const opened = postedSession(request, reply);
    if (opened === undefined) return reply;
    const { session, client } = opened;
    const brand = brandOf(session);
    if (brand === undefined) return seeOther(reply, `/connect/${session.id}/brands`);
    const email = (formValue(request.body, 'username') ?? '').trim();
    const password = formValue(request.body, 'password') ?? '';
    const connectError = CONNECT_ERROR_EMAILS[email.toLowerCase()];
    if (connectError !== undefined && session.mode !== 'live') {
      const model = brand.models[0];
      const extra: Record<string, string> =
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
    if (!result.ok) {
      return html(
        reply,
        401,
        signInPage({
          sessionId: session.id,
          appName: client.name,
          csrfToken: session.csrfToken,
          brand,
          error: result.message,
          email,
        }),
      );
    }
    sessions.update(session, { accountId: result.account.id });
    // approval_prompt=auto: an owner who already granted all of this is not asked again.
    if (session.approvalPrompt === 'auto') {
      const { offered } = vehicleChoice(session);
      const covered = engine.consent.coveredBy({
        clientId: client.clientId,
        userId: result.account.id,
        mode: session.mode,
        scopes: session.scopes,
        offered: offered.map((v) => v.id),
      });
      if (covered !== undefined) {
        const code = engine.consent.approve({
          clientId: client.clientId,
          userId: result.account.id,
          vehicleIds: session.singleSelect ? covered.vehicleIds.slice(0, 1) : covered.vehicleIds,
          scopes: covered.grant.scopes,
          redirectUri: session.redirectUri,
          mode: session.mode,
        });
        sessions.close(session);
        return redirectWith(reply, session.redirectTarget, { code, state: session.state });
      }
    }
    return seeOther(reply, `/connect/${session.id}/approve`);
  });

  const renderApproval = (
    reply: FastifyReply,
    session: ConnectSessionRecord,
    client: AppRecord,
    status: number,
    error?: string,
  ) => {
    const { offered, unavailable } = vehicleChoice(session);
    const input: Parameters<typeof approvalPage>[0] = {
      sessionId: session.id,
      appName: client.name,
      csrfToken: session.csrfToken,
      vehicles: offered.map(summarizeVehicle),
      unavailable: unavailable.map(summarizeVehicle),
      scopes: session.scopes as Scope[],
      required: session.required as Scope[],
      singleSelect: session.singleSelect,
    };
    if (error !== undefined) input.error = error;
    return html(reply, status, approvalPage(input));
  };

  app.get<{ Params: { sid: string } }>('/connect/:sid/approve', (request, reply) => {
    const opened = openSession(request, reply);
    if (opened === undefined) return reply;
    const { session, client } = opened;
    if (session.accountId === null) return seeOther(reply, `/connect/${session.id}/login`);
    const { offered, unavailable } = vehicleChoice(session);
    if (offered.length === 0) {
      const first = unavailable[0];
      if (first !== undefined) return incompatible(reply, session, first);
      return fail(
        reply,
        session,
        'no_vehicles',
        'The account has no vehicle this application can connect to.',
      );
    }
    return renderApproval(reply, session, client, 200);
  });

  app.post<{ Params: { sid: string } }>('/connect/:sid/approve', (request, reply) => {
    const opened = postedSession(request, reply);
    if (opened === undefined) return reply;
    const { session, client } = opened;
    if (session.accountId === null) return seeOther(reply, `/connect/${session.id}/login`);
    const action = formValue(request.body, 'action');
    if (action !== 'approve') {
      return fail(reply, session, 'access_denied', 'The user denied access to your application.');
    }
    const { offered, unavailable } = vehicleChoice(session);
    if (offered.length === 0 && unavailable[0] !== undefined)
      return incompatible(reply, session, unavailable[0]);
    const allowed = new Set(offered.map((v) => v.id));
    const chosen = formValues(request.body, 'vehicle').filter((id) => allowed.has(id));
    const vehicleIds = session.singleSelect ? chosen.slice(0, 1) : chosen;
    if (vehicleIds.length === 0)
      return renderApproval(reply, session, client, 400, 'Please select at least one vehicle.');
    // Required permissions always; optional ones only as the owner left them ticked.
    const ticked = new Set(formValues(request.body, 'scope'));
    const scopes = session.scopes.filter((s) => session.required.includes(s) || ticked.has(s));
    if (scopes.length === 0)
      return renderApproval(reply, session, client, 400, 'Please allow at least one permission.');
    const code = engine.consent.approve({
      clientId: client.clientId,
      userId: session.accountId,
      vehicleIds,
      scopes,
      redirectUri: session.redirectUri,
      mode: session.mode,
    });
    sessions.close(session);
    return redirectWith(reply, session.redirectTarget, { code, state: session.state });
  });
}
