import { randomUUID } from 'node:crypto';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
} from 'fastify';
import { ApiError } from '../api-error.ts';
import type { SimulatorEngine } from '../engine.ts';
import { OAuthError } from '../oauth/tokens.ts';
import { registerAdminRoutes, type AdminHooks } from './admin-routes.ts';
import { fromFrameworkError, sendError, writeClientError } from './error-replies.ts';
import { createFastLane } from './fast-lane.ts';
import { registerConnectRoutes } from './connect-routes.ts';
import { registerTokenRoutes } from './token-routes.ts';
import { registerPlatformRoutes } from './platform-routes.ts';
import { registerVehicleRoutes } from './vehicle-routes.ts';
import { registerV3Routes, type V3Platform } from '../v3/index.ts';

/** Request bodies above this size are refused with 413 (nothing the API takes comes close). */
export const BODY_LIMIT_BYTES = 64 * 1024;

function parseForm(text: string): Record<string, string | string[]> {
  const result: Record<string, string | string[]> = {};
  for (const [key, value] of new URLSearchParams(text)) {
    const previous = result[key];
    if (previous === undefined) result[key] = value;
    else if (Array.isArray(previous)) previous.push(value);
    else result[key] = [previous, value];
  }
  return result;
}

export interface HttpAppOptions {
  readonly engine: SimulatorEngine;
  readonly managementToken: string;
  readonly adminHooks: AdminHooks;
  readonly logger?: FastifyBaseLogger;
  /** Vehicle API v3 (signals, v3 commands, application tokens, v3 webhook admin). */
  readonly v3?: V3Platform;
}

/** The whole simulator surface on one origin: Connect, tokens, vehicle API, management, admin. */
export function buildHttpApp(options: HttpAppOptions): FastifyInstance {
  const { engine } = options;
  const app: FastifyInstance = Fastify({
    ...(options.logger === undefined ? { logger: false } : { loggerInstance: options.logger }),
    // Fastify's own request logs include URLs and headers; ours (below) carry only method, route, status.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT_BYTES,
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    clientErrorHandler: writeClientError,
    routerOptions: {
      ignoreTrailingSlash: true,
      ignoreDuplicateSlashes: true,
      maxParamLength: 500,
      // Form-style decoding ('+' is a space) of every query, as the SDKs encode scope lists that way.
      querystringParser: (query: string) => parseForm(query),
    },
    // Bad percent-encoding and over-long path parameters, raised by the router before any route runs.
    frameworkErrors: (error, request, reply) => {
      sendError(request, reply, fromFrameworkError(error, BODY_LIMIT_BYTES));
    },
  });

  // The SDK sends `Content-Type: application/json` with empty bodies on GET/DELETE/subscribe.
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = String(body);
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch {
      done(
        new ApiError('VALIDATION', null, { description: 'The request body is not valid JSON.' }),
        undefined,
      );
    }
  });
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (_request, body, done) => {
      done(null, parseForm(String(body)));
    },
  );
  // Anything else is read as text; route schemas then reject it with a VALIDATION error, not a 415.
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, String(body)));

  if (options.logger !== undefined) {
    const logger = options.logger;
    // Method, route and status only: never headers, bodies or query strings (they can carry secrets).
    app.addHook('onResponse', async (request, reply) => {
      logger.info(
        {
          method: request.method,
          route: request.routeOptions.url ?? 'unknown',
          status: reply.statusCode,
          ms: Math.round(reply.elapsedTime),
        },
        'request',
      );
    });
  }

  app.setErrorHandler((error: FastifyError | ApiError | OAuthError, request, reply) => {
    if (error instanceof ApiError || error instanceof OAuthError) return sendError(request, reply, error);
    const apiError = fromFrameworkError(error, BODY_LIMIT_BYTES);
    if (apiError.statusCode >= 500)
      request.log.error({ err: { message: error.message, code: error.code } }, 'unexpected error');
    return sendError(request, reply, apiError);
  });

  app.setNotFoundHandler((request, reply) => {
    const version = /^\/(v\d+(?:\.\d+)?)\//.exec(request.url)?.[1];
    const error =
      version !== undefined && version !== 'v2.0'
        ? new ApiError('RESOURCE_NOT_FOUND', 'VERSION', {
            description: `API version ${version} is not served by the simulator.`,
          })
        : new ApiError('RESOURCE_NOT_FOUND', 'PATH');
    return sendError(request, reply, error);
  });

  // Browsers ask for it on every Connect page; "no content" instead of a JSON 404 in their console.
  app.get('/favicon.ico', (_request, reply) =>
    reply.code(204).header('cache-control', 'public, max-age=86400').send(),
  );

  // Vehicle data reads skip the framework when every check passes (./fast-lane.ts); the lane goes in
  // front of Fastify's own request listener, so the server keeps every setting Fastify gave it.
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  const fastLane = createFastLane({ engine, logger: options.logger, closing: () => closing });
  const [frameworkListener, ...others] = app.server.listeners('request') as RequestListener[];
  if (frameworkListener === undefined || others.length > 0)
    throw new Error('expected exactly one request listener on the server');
  app.server.removeListener('request', frameworkListener);
  app.server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    if (!fastLane(request, response)) frameworkListener(request, response);
  });

  registerConnectRoutes(app, engine);
  registerTokenRoutes(app, engine);
  registerPlatformRoutes(app, engine);
  registerVehicleRoutes(app, engine);
  registerAdminRoutes(app, engine, options.managementToken, options.adminHooks);
  if (options.v3 !== undefined)
    registerV3Routes(app, { ...options.v3, engine, managementToken: options.managementToken });
  return app;
}
