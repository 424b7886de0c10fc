import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import type { Logger } from 'pino';
import type { Principal } from '../auth/identity.ts';
import { resolvePrincipal } from '../auth/identity.ts';
import type { SmartChargingService } from '../smart-charging-service.ts';
import { buildOpenApiDocument, problem, registerApiRoutes, type ApiRoute } from './api-route.ts';
import { createApiRoutes } from './api-routes.ts';
import { createAuthRoutes } from './auth-routes.ts';
import { readCookie, SESSION_COOKIE } from './cookies.ts';
import { registerBrowserHardening, type BrowserHardening } from './security.ts';
import { registerWebAssets } from './web-pages.ts';
import { createWebhookRoutes, registerWebhookRoutes } from './webhook-routes.ts';

export interface HttpServerOptions {
  /** Request logs carry method, route, status and duration only (never query strings: Connect codes). */
  readonly logger?: Logger;
  /** The service's clock (defaults for time windows in queries). @default () => new Date() */
  readonly now?: () => Date;
  /** The clock of sessions and login links (real time, also when the service runs on a simulated clock). */
  readonly authNow?: () => Date;
  readonly title?: string;
  /** Host names besides the loopback ones that `Host` may carry (e.g. the public name behind a proxy). */
  readonly allowedHosts?: readonly string[];
  /** Sign-in and Connect endpoints per client address. @default 30 per minute */
  readonly rateLimit?: BrowserHardening['rateLimit'];
}

export interface SmartChargingHttp {
  readonly app: FastifyInstance;
  /** Every route as `METHOD /path`, as registered (the OpenAPI document describes each of them). */
  readonly routes: readonly string[];
  readonly openApi: Record<string, unknown>;
}

/** Reads who is asking: a bearer API token, else the session cookie. */
function identifier(service: SmartChargingService, authNow: () => Date) {
  return async (request: FastifyRequest): Promise<Principal | undefined> => {
    const authorization = request.headers.authorization;
    let bearer: string | undefined;
    if (authorization !== undefined) {
      const match = /^Bearer ([A-Za-z0-9_-]{1,200})$/.exec(authorization);
      if (!match) return undefined;
      bearer = match[1];
    }
    const sessionSecret =
      request.cookies[SESSION_COOKIE] === undefined ? undefined : (readCookie(request, SESSION_COOKIE) ?? '');
    return resolvePrincipal(service.apiDb, { bearer, sessionSecret }, authNow());
  };
}

/**
 * Registers the API, the Connect callback, sign-in, the OpenAPI description and the pages on a fastify
 * instance, with the browser hardening (cookies, helmet, rate limits, Host and Origin checks) in front.
 */
export async function registerSmartChargingHttp(
  app: FastifyInstance,
  service: SmartChargingService,
  options: HttpServerOptions = {},
): Promise<Omit<SmartChargingHttp, 'app'>> {
  const now = options.now ?? (() => new Date());
  const authNow = options.authNow ?? (() => new Date());
  const title = options.title ?? 'Voltkit smart charging';
  const rateLimit = options.rateLimit ?? { max: 30, timeWindowMs: 60_000 };
  await registerBrowserHardening(app, { allowedHosts: options.allowedHosts ?? [], rateLimit });
  let openApi: Record<string, unknown> = {};
  const webhookRoutes = createWebhookRoutes(service);
  const routes: ApiRoute[] = [
    ...createApiRoutes(service, now, authNow),
    ...createAuthRoutes(service, { title, authNow, openApi: () => openApi }),
    ...registerWebAssets(app, title),
  ];
  openApi = buildOpenApiDocument([...routes, ...webhookRoutes], {
    title,
    version: '0.1.0',
    description:
      'Enroll cars through Connect, set preferences, prices and the grid signal; the service plans the fleet and runs the commands. Operators use API tokens (Authorization: Bearer) or a session from a login link; owners a session that Connect starts. Every input is validated; a 400 names each wrong field; every error has the same body.',
  });
  registerApiRoutes(app, routes, { identify: identifier(service, authNow), rateLimit });
  await registerWebhookRoutes(app, webhookRoutes, { identify: identifier(service, authNow), rateLimit });
  return {
    routes: [...routes, ...webhookRoutes].map((route) => `${route.method} ${route.url}`),
    openApi,
  };
}

/** A fastify server with the whole smart-charging HTTP surface; call `app.listen` (bind 127.0.0.1). */
export async function createHttpServer(
  service: SmartChargingService,
  options: HttpServerOptions = {},
): Promise<SmartChargingHttp> {
  // pino's Logger is fastify's logger; typed as the base logger so the instance has the default type.
  const loggerInstance: FastifyBaseLogger | undefined = options.logger;
  const app: FastifyInstance = Fastify({
    ...(loggerInstance ? { loggerInstance } : { logger: false }),
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 4 * 1024 * 1024,
    // Router-level refusals in the API's error body too.
    frameworkErrors: (error, _request, reply) => {
      const status = error.statusCode ?? 400;
      const message =
        error.code === 'FST_ERR_BAD_URL' ? 'the URL is not valid (bad percent-encoding)' : 'bad request';
      void (reply as unknown as FastifyReply).code(status).send(problem(status, message));
    },
    clientErrorHandler: (error: NodeJS.ErrnoException, socket) => {
      if (!socket.writable) {
        socket.destroy();
        return;
      }
      const status =
        error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
      const message =
        status === 431
          ? 'request headers too large'
          : status === 408
            ? 'request timed out'
            : 'malformed HTTP request';
      const body = JSON.stringify(problem(status, message));
      socket.end(
        `HTTP/1.1 ${status} ${status === 431 ? 'Request Header Fields Too Large' : status === 408 ? 'Request Timeout' : 'Bad Request'}\r\n` +
          `content-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
          `x-content-type-options: nosniff\r\nconnection: close\r\n\r\n${body}`,
      );
    },
  });
  app.addHook('onResponse', async (request, reply) => {
    request.log.info(
      {
        method: request.method,
        route: request.routeOptions.url ?? '(unmatched)',
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
      },
      'request',
    );
  });
  // Fastify's own refusals (malformed JSON, wrong content type, oversized body, rate limits) in the API's shape.
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const status = error.statusCode ?? 500;
    if (status === 429) return reply.status(429).send(problem(429, error.message));
    if (status >= 400 && status < 500) {
      return reply.status(status).send({
        error: {
          code: problem(status, '').error.code,
          message: `invalid request: body: ${error.message}`,
          issues: [{ location: 'body', path: '(root)', message: error.message }],
        },
      });
    }
    request.log.error({ err: error }, 'request failed');
    return reply.status(500).send(problem(500, 'internal error'));
  });
  app.setNotFoundHandler((request, reply) =>
    reply
      .status(404)
      .send(problem(404, `no route ${request.method} ${request.url.split('?')[0]!.slice(0, 200)}`)),
  );
  const registered = await registerSmartChargingHttp(app, service, options);
  return { app, ...registered };
}
