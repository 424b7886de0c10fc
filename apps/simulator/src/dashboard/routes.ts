import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { SignalCode } from '@voltkit/core/v3';
import { ApiError } from '../api-error.ts';
import { findModel } from '../catalog/brands.ts';
import { safeEqual } from '../credentials.ts';
import { redirectUriProblem } from '../oauth/redirect-uri.ts';
import { DASHBOARD_SCRIPT, DASHBOARD_STYLE } from './assets.ts';
import { html } from './html.ts';
import { href, page } from './layout.ts';
import {
  accountsPage,
  appsPage,
  connectionsPage,
  DEMO_TRIGGERS,
  deliveriesPage,
  ERROR_TRIGGERS,
  loginPage,
  requestsPage,
  type DashboardDeps,
} from './pages.ts';
import { DASHBOARD_PREFIX, DashboardSessions, sameOrigin, type DashboardSession } from './session.ts';

/** Nothing loads but the dashboard's own stylesheet and script; no framing, forms post only to itself. */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

const PUBLIC_PATHS = new Set(['/login', '/dashboard.css', '/dashboard.js']);

const text = (field: string, max = 2000) =>
  z
    .string({ error: `"${field}" is required` })
    .trim()
    .min(1, `"${field}" must not be empty`)
    .max(max);
const numberField = (field: string, min: number, max: number) =>
  z.coerce
    .number({ error: `"${field}" must be a number` })
    .min(min, `"${field}" must be at least ${min}`)
    .max(max, `"${field}" must be at most ${max}`);

const CreateAppForm = z.object({
  name: text('name', 200),
  redirectUris: z.string().default(''),
});
const RedirectUriForm = z.object({ uri: text('uri') });
const WebhookForm = z.object({
  kind: z.enum(['v3', 'eventBased', 'scheduled'], { error: '"kind" must be v3, eventBased or scheduled' }),
  url: z.url({ error: '"url" must be an absolute URL' }),
  subscribe: z.literal('on').optional(),
});
const FailNextForm = z.object({ failNext: numberField('failNext', 0, 20).int() });
const SubscribeForm = z.object({
  version: z.enum(['v2', 'v3']),
  clientId: text('clientId'),
  vehicleId: text('vehicleId'),
});
const AccountForm = z.object({
  email: text('email', 320).pipe(z.email({ error: '"email" must be an email address' })),
  model: text('model'),
  vehicleCount: numberField('vehicleCount', 1, 20).int().default(1),
});
const VehicleForm = z.discriminatedUnion(
  'action',
  [
    z.object({ action: z.literal('soc'), soc: numberField('soc', 0, 100) }),
    z.object({ action: z.literal('plug') }),
    z.object({ action: z.literal('unplug') }),
    z.object({ action: z.literal('sleep') }),
    z.object({ action: z.literal('wake') }),
    z.object({ action: z.literal('reachable') }),
    z.object({ action: z.literal('unreachable') }),
    z.object({
      action: z.literal('location'),
      latitude: numberField('latitude', -90, 90),
      longitude: numberField('longitude', -180, 180),
    }),
    z.object({
      action: z.literal('error'),
      error: z.union([z.literal(''), z.enum(ERROR_TRIGGERS)], {
        error: `"error" must be empty or one of ${ERROR_TRIGGERS.join(', ')}`,
      }),
    }),
  ],
  { error: '"action" must be soc, plug, unplug, sleep, wake, reachable, unreachable, location or error' },
);
const GrantForm = z.object({ grantId: text('grantId') });
const DisconnectForm = z.object({ grantId: text('grantId'), vehicleId: text('vehicleId') });

/** A user's mistake in a form: shown on the next page, never a stack trace. */
class FormError extends Error {
  override name = 'FormError';
}

function parseForm<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  throw new FormError(result.error.issues.map((issue) => issue.message).join('; '));
}

function sendHtml(reply: FastifyReply, status: number, body: string): FastifyReply {
  return reply.code(status).header('content-type', 'text/html; charset=utf-8').send(body);
}

/**
 * The developer dashboard under `/_simulator/dashboard`: apps, test accounts and their cars, connections,
 * the request log and the webhook delivery log. Server-rendered pages with plain forms (POST, then a
 * redirect back); signing in takes the management token.
 */
export function registerDashboard(app: FastifyInstance, deps: DashboardDeps, managementToken: string): void {
  const sessions = new DashboardSessions(managementToken);
  const sessionOf = new WeakMap<FastifyRequest, DashboardSession>();
  const { engine } = deps;

  app.register(
    (scoped, _options, done) => {
      scoped.addHook('onRequest', (request, reply, next) => {
        reply
          .header('content-security-policy', DASHBOARD_CSP)
          .header('x-frame-options', 'DENY')
          .header('x-content-type-options', 'nosniff')
          // Not no-referrer: with it Chromium sends `Origin: null` on the forms' own POSTs.
          .header('referrer-policy', 'same-origin')
          .header('cache-control', 'no-store');
        const path = (request.routeOptions.url ?? '').slice(DASHBOARD_PREFIX.length);
        if (PUBLIC_PATHS.has(path)) return next();
        const session = sessions.sessionOf(request);
        if (session === undefined) {
          if (request.method === 'GET' || request.method === 'HEAD') {
            void reply.code(303).header('location', href('/login')).send();
          } else {
            void sendHtml(
              reply,
              401,
              page({
                title: 'Not signed in',
                current: null,
                session: null,
                body: html`<p><a href="${href('/login')}">Sign in</a> with the management token first.</p>`,
              }),
            );
          }
          return;
        }
        sessionOf.set(request, session);
        next();
      });
      // Cross-site requests change nothing: own origin, and the session's CSRF token in the form.
      scoped.addHook('preHandler', (request, reply, next) => {
        if (request.method === 'GET' || request.method === 'HEAD') return next();
        if (!sameOrigin(request)) {
          void sendHtml(
            reply,
            403,
            page({ title: 'Refused: not from this origin', current: null, session: null, body: '' }),
          );
          return;
        }
        const session = sessionOf.get(request);
        if (session !== undefined) {
          const body = request.body as Record<string, unknown> | undefined;
          const csrf = typeof body?.['csrf'] === 'string' ? body['csrf'] : '';
          if (!safeEqual(csrf, session.csrfToken)) {
            void sendHtml(
              reply,
              403,
              page({ title: 'Refused: the form is stale', current: null, session: null, body: '' }),
            );
            return;
          }
        }
        next();
      });
      scoped.setErrorHandler((error, _request, reply) => {
        const status = (error as { statusCode?: number }).statusCode ?? 500;
        const message =
          status >= 500 || !(error instanceof Error) ? 'The simulator failed to answer.' : error.message;
        return sendHtml(
          reply,
          status,
          page({ title: 'Error', current: null, session: null, body: html`<p>${message}</p>` }),
        );
      });

      const current = (request: FastifyRequest): DashboardSession => {
        const session = sessionOf.get(request);
        if (session === undefined) throw new Error('dashboard route without a session');
        return session;
      };
      /** Runs a form action, then sends the browser back to `back` with what happened. */
      const act = async (
        request: FastifyRequest,
        reply: FastifyReply,
        back: string,
        run: (session: DashboardSession) => string | Promise<string>,
      ) => {
        const session = current(request);
        try {
          session.flash = { kind: 'ok', text: await run(session) };
        } catch (error) {
          const text =
            error instanceof ApiError
              ? `${error.type}${error.code === null ? '' : `:${error.code}`}: ${error.message}`
              : error instanceof Error
                ? error.message
                : 'The action failed.';
          session.flash = { kind: 'error', text };
        }
        return reply.code(303).header('location', href(back)).send();
      };

      scoped.get('/dashboard.css', (_request, reply) =>
        reply.header('content-type', 'text/css; charset=utf-8').send(DASHBOARD_STYLE),
      );
      scoped.get('/dashboard.js', (_request, reply) =>
        reply.header('content-type', 'text/javascript; charset=utf-8').send(DASHBOARD_SCRIPT),
      );

      scoped.get('/login', (request, reply) => {
        if (sessions.sessionOf(request) !== undefined)
          return reply.code(303).header('location', href('')).send();
        return sendHtml(reply, 200, loginPage(null));
      });
      scoped.post('/login', (request, reply) => {
        const body = request.body as Record<string, unknown> | undefined;
        const token = typeof body?.['token'] === 'string' ? body['token'].trim() : '';
        if (!sessions.signIn(reply, token))
          return sendHtml(reply, 401, loginPage('That is not the management token.'));
        return reply.code(303).header('location', href('')).send();
      });
      scoped.post('/logout', (request, reply) => {
        sessions.signOut(request, reply);
        return reply.code(303).header('location', href('/login')).send();
      });

      scoped.get('/', (request, reply) => sendHtml(reply, 200, appsPage(deps, current(request))));
      scoped.get('/accounts', (request, reply) => sendHtml(reply, 200, accountsPage(deps, current(request))));
      scoped.get('/connections', (request, reply) =>
        sendHtml(reply, 200, connectionsPage(deps, current(request))),
      );
      scoped.get('/requests', (request, reply) => sendHtml(reply, 200, requestsPage(deps, current(request))));
      scoped.get('/deliveries', (request, reply) =>
        sendHtml(reply, 200, deliveriesPage(deps, current(request))),
      );

      const appOf = (clientId: string) => {
        const found = engine.store.apps.get(clientId);
        if (found === undefined) throw new FormError(`no app with client id ${clientId}`);
        return found;
      };

      scoped.post('/apps', (request, reply) =>
        act(request, reply, '', (session) => {
          const input = parseForm(CreateAppForm, request.body);
          const uris = input.redirectUris
            .split(/\r?\n/)
            .map((line) => line.trim())
            .filter(Boolean);
          for (const uri of uris) {
            const problem = redirectUriProblem(uri);
            if (problem !== undefined) throw new FormError(`redirect URI ${uri} ${problem}`);
          }
          const created = engine.registerApp({ name: input.name, redirectUris: uris });
          // A new app's secrets are shown once, right away.
          session.reveal = created.clientId;
          return `Registered ${created.name}: client id ${created.clientId}.`;
        }),
      );
      scoped.post<{ Params: { clientId: string } }>('/apps/:clientId/reveal', (request, reply) =>
        act(request, reply, '', (session) => {
          const found = appOf(request.params.clientId);
          session.reveal = found.clientId;
          return `Secrets of ${found.name} shown below.`;
        }),
      );
      scoped.post<{ Params: { clientId: string } }>('/apps/:clientId/redirect-uris', (request, reply) =>
        act(request, reply, '', () => {
          const found = appOf(request.params.clientId);
          const { uri } = parseForm(RedirectUriForm, request.body);
          const problem = redirectUriProblem(uri);
          if (problem !== undefined) throw new FormError(`redirect URI ${uri} ${problem}`);
          if (found.redirectUris.includes(uri)) return `${uri} is already registered.`;
          found.redirectUris.push(uri);
          engine.store.changed();
          return `Added ${uri} to ${found.name}.`;
        }),
      );
      scoped.post<{ Params: { clientId: string } }>('/apps/:clientId/webhooks', (request, reply) =>
        act(request, reply, '', async () => {
          const found = appOf(request.params.clientId);
          const input = parseForm(WebhookForm, request.body);
          const vehicleIds = [...engine.store.grants.values()]
            .filter((grant) => grant.clientId === found.clientId)
            .flatMap((grant) => grant.vehicles.map((v) => v.vehicleId));
          if (input.kind === 'v3') {
            if (deps.v3 === undefined) throw new FormError('this simulator runs without Vehicle API v3');
            const created = await deps.v3.webhooks.create({
              clientId: found.clientId,
              url: input.url,
              name: 'Dashboard webhook',
              triggers: [...DEMO_TRIGGERS] as SignalCode[],
            });
            if (!created.verified)
              return `Created v3 webhook ${created.id}, but ${input.url} did not answer the VERIFY challenge.`;
            if (input.subscribe === 'on')
              for (const id of vehicleIds) deps.v3.webhooks.subscribe(created.id, id);
            return `Created and verified v3 webhook ${created.id}${input.subscribe === 'on' ? `, ${vehicleIds.length} vehicles subscribed` : ''}.`;
          }
          const created = await engine.createWebhook({
            clientId: found.clientId,
            url: input.url,
            type: input.kind,
          });
          if (!created.verified)
            return `Created v2 webhook ${created.id}, but ${input.url} did not answer the verify challenge.`;
          if (input.subscribe === 'on') {
            for (const id of vehicleIds) subscribeV2(created.id, found.clientId, id);
          }
          return `Created and verified v2 webhook ${created.id}${input.subscribe === 'on' ? `, ${vehicleIds.length} vehicles subscribed` : ''}.`;
        }),
      );
      const subscribeV2 = (webhookId: string, clientId: string, vehicleId: string) => {
        const found = appOf(clientId);
        const grant = [...engine.store.grants.values()].find(
          (g) => g.clientId === clientId && g.vehicles.some((v) => v.vehicleId === vehicleId),
        );
        const vehicle = engine.store.vehicles.get(vehicleId);
        if (grant === undefined || vehicle === undefined)
          throw new FormError('that vehicle is not connected to the app');
        engine.subscribe({ app: found, grant, scopes: new Set(grant.scopes) }, vehicle, webhookId);
      };
      scoped.post<{ Params: { webhookId: string } }>('/webhooks/:webhookId/subscribe', (request, reply) =>
        act(request, reply, '', () => {
          const input = parseForm(SubscribeForm, request.body);
          if (input.version === 'v3') {
            if (deps.v3 === undefined) throw new FormError('this simulator runs without Vehicle API v3');
            deps.v3.webhooks.subscribe(request.params.webhookId, input.vehicleId);
          } else {
            subscribeV2(request.params.webhookId, input.clientId, input.vehicleId);
          }
          return `Subscribed vehicle ${input.vehicleId} to webhook ${request.params.webhookId}.`;
        }),
      );
      scoped.post<{ Params: { clientId: string } }>('/apps/:clientId/demo-receiver', (request, reply) =>
        act(request, reply, '', () => {
          const found = appOf(request.params.clientId);
          const { failNext } = parseForm(FailNextForm, request.body);
          deps.receiver.failNext(found.clientId, failNext);
          return failNext === 0
            ? `The demo receiver of ${found.name} accepts every delivery.`
            : `The demo receiver of ${found.name} answers 500 to the next ${failNext} deliveries.`;
        }),
      );

      scoped.post('/accounts', (request, reply) =>
        act(request, reply, '/accounts', () => {
          const input = parseForm(AccountForm, request.body);
          const [make = '', model = ''] = input.model.split('|');
          if (findModel(make, model) === undefined)
            throw new FormError(`"model" ${input.model} is not in the catalog`);
          const account = engine.createTestAccount({
            email: input.email,
            brand: make,
            model,
            vehicleCount: input.vehicleCount,
          });
          return `Test account ${account.email} has ${account.vehicles.length} cars.`;
        }),
      );
      scoped.post<{ Params: { id: string } }>('/vehicles/:id', (request, reply) =>
        act(request, reply, '/accounts', () => {
          const vehicle = engine.store.vehicles.get(request.params.id);
          if (vehicle === undefined) throw new FormError(`no vehicle with id ${request.params.id}`);
          const input = parseForm(VehicleForm, request.body);
          const name = `${vehicle.make} ${vehicle.model}`;
          switch (input.action) {
            case 'soc':
              engine.updateVehicle(vehicle.id, { soc: input.soc / 100 });
              return `${name}: state of charge ${input.soc} %.`;
            case 'plug':
              engine.updateVehicle(vehicle.id, { pluggedIn: true });
              return `${name} is plugged in.`;
            case 'unplug':
              engine.updateVehicle(vehicle.id, { pluggedIn: false });
              return `${name} is unplugged.`;
            case 'sleep':
              engine.updateVehicle(vehicle.id, { asleep: true });
              return `${name} is asleep: its data and commands answer VEHICLE_STATE:ASLEEP.`;
            case 'wake':
              engine.updateVehicle(vehicle.id, { asleep: false });
              return `${name} is awake.`;
            case 'reachable':
              engine.updateVehicle(vehicle.id, { unreachable: false });
              return `${name} is reachable.`;
            case 'unreachable':
              engine.updateVehicle(vehicle.id, { unreachable: true });
              return `${name} is unreachable: it answers VEHICLE_STATE:UNREACHABLE.`;
            case 'location':
              engine.updateVehicle(vehicle.id, {
                location: { latitude: input.latitude, longitude: input.longitude },
              });
              return `${name} is at ${input.latitude}, ${input.longitude}.`;
            case 'error': {
              if (input.error === '') {
                engine.updateVehicle(vehicle.id, { forcedError: null });
                return `${name} has no error trigger.`;
              }
              const [type = '', code = null] = input.error.split(':');
              engine.updateVehicle(vehicle.id, { forcedError: { type, code } });
              return `${name} answers every data and command request with ${input.error}.`;
            }
          }
        }),
      );

      const grantOf = (grantId: string) => {
        const grant = engine.store.grants.get(grantId);
        if (grant === undefined) throw new FormError('that connection no longer exists');
        return grant;
      };
      scoped.post('/connections/disconnect', (request, reply) =>
        act(request, reply, '/connections', () => {
          const input = parseForm(DisconnectForm, request.body);
          const grant = grantOf(input.grantId);
          if (!grant.vehicles.some((v) => v.vehicleId === input.vehicleId))
            throw new FormError('that vehicle is not part of the connection');
          const last = grant.vehicles.length === 1;
          engine.disconnect(grant, input.vehicleId);
          return last
            ? 'Vehicle disconnected; it was the last one, so the connection and its tokens are revoked.'
            : 'Vehicle disconnected: the app’s token answers 401 for it.';
        }),
      );
      scoped.post('/connections/revoke', (request, reply) =>
        act(request, reply, '/connections', () => {
          const grant = grantOf(parseForm(GrantForm, request.body).grantId);
          for (const { vehicleId } of [...grant.vehicles]) engine.disconnect(grant, vehicleId);
          // A grant without vehicles (after a management delete) still holds tokens: revoke them too.
          if (engine.store.grants.has(grant.id)) {
            engine.store.revokeGrant(grant.id);
            engine.store.changed();
          }
          const appName = engine.store.apps.get(grant.clientId)?.name ?? grant.clientId;
          return `Revoked ${appName}'s access: its access and refresh tokens answer 401.`;
        }),
      );
      done();
    },
    { prefix: DASHBOARD_PREFIX },
  );
}
