import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
} from 'fastify';
import type { Logger } from 'pino';
import type { SmartChargingService } from '../smart-charging-service.ts';
import { buildOpenApiDocument, defineRoute, registerApiRoutes, type ApiRoute } from './api-route.ts';
import { createApiRoutes } from './api-routes.ts';
import { registerWebAssets } from './web-pages.ts';

export interface HttpServerOptions {
  /** Request logs carry method, route, status and duration only (never query strings: Connect codes). */
  readonly logger?: Logger;
  /** The service's clock (defaults for time windows in queries). @default () => new Date() */
  readonly now?: () => Date;
  readonly title?: string;
}

export interface SmartChargingHttp {
  readonly app: FastifyInstance;
  /** Every route as `METHOD /path`, as registered (the OpenAPI document describes each of them). */
  readonly routes: readonly string[];
  readonly openApi: Record<string, unknown>;
}

/**
 * Registers the API, the Connect callback, the OpenAPI description and the dashboard page on a fastify
 * instance (for mounting next to other routes, e.g. in the demo).
 */
export function registerSmartChargingHttp(
  app: FastifyInstance,
  service: SmartChargingService,
  options: HttpServerOptions = {},
): Omit<SmartChargingHttp, 'app'> {
  const now = options.now ?? (() => new Date());
  const title = options.title ?? 'Voltkit smart charging';
  const routes: ApiRoute[] = createApiRoutes(service, now);
  let openApi: Record<string, unknown> = {};
  routes.push(
    ...registerWebAssets(app, title),
    defineRoute({
      method: 'GET',
      url: '/api/openapi.json',
      tag: 'meta',
      summary: 'This OpenAPI 3.1 description',
      handler: () => Promise.resolve(openApi),
    }),
  );
  openApi = buildOpenApiDocument(routes, {
    title,
    version: '0.1.0',
    description:
      'Enroll cars through Connect, set preferences, prices and the grid signal; the service plans the fleet and runs the commands. Every input is validated; a 400 names each wrong field.',
  });
  registerApiRoutes(app, routes);
  return { routes: routes.map((route) => `${route.method} ${route.url}`), openApi };
}

/** A fastify server with the whole smart-charging HTTP surface; call `app.listen` (bind 127.0.0.1). */
export function createHttpServer(
  service: SmartChargingService,
  options: HttpServerOptions = {},
): SmartChargingHttp {
  // pino's Logger is fastify's logger; typed as the base logger so the instance has the default type.
  const loggerInstance: FastifyBaseLogger | undefined = options.logger;
  const app: FastifyInstance = Fastify({
    ...(loggerInstance ? { loggerInstance } : { logger: false }),
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 4 * 1024 * 1024,
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
  // Fastify's own input errors (malformed JSON, wrong content type, oversized body) in the API's shape.
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      const message = `body: ${error.message}`;
      return reply.status(status).send({
        error: {
          code: 'VALIDATION',
          message: `invalid request: ${message}`,
          issues: [{ location: 'body', path: '(root)', message: error.message }],
        },
      });
    }
    request.log.error({ err: error }, 'request failed');
    return reply.status(500).send({ error: { code: 'INTERNAL', message: 'internal error' } });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({
      error: { code: 'NOT_FOUND', message: `no route ${request.method} ${request.url.split('?')[0]}` },
    }),
  );
  const registered = registerSmartChargingHttp(app, service, options);
  return { app, ...registered };
}
