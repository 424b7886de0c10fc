import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { ANONYMOUS, type Principal } from '../auth/identity.ts';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

/**
 * Who may call a route. Object-level checks (an owner's own cars) happen in the handler, which answers 404
 * for another owner's object, as for one that does not exist.
 * - `public`: anyone, signed in or not (the Connect flow, sign-in, this description)
 * - `signed-in`: owners (their own objects only) and operators
 * - `operator`: operators with the `read` or `admin` role
 * - `owner-or-admin`: owners (their own objects only) and `admin` operators
 * - `admin`: `admin` operators
 */
export type RouteAccess = 'public' | 'signed-in' | 'operator' | 'owner-or-admin' | 'admin';

/** Whether the principal passes the route's access rule (before any object-level check). */
export function allows(access: RouteAccess, principal: Principal): boolean {
  switch (access) {
    case 'public':
      return true;
    case 'signed-in':
      return principal.kind !== 'anonymous';
    case 'operator':
      return principal.kind === 'operator';
    case 'owner-or-admin':
      return principal.kind === 'owner' || (principal.kind === 'operator' && principal.role === 'admin');
    case 'admin':
      return principal.kind === 'operator' && principal.role === 'admin';
  }
}

/** One API operation: its zod-validated inputs, documented output and handler. */
export interface ApiRoute<TParams = unknown, TQuery = unknown, TBody = unknown> {
  readonly method: HttpMethod;
  /** Fastify path syntax, e.g. `/api/vehicles/:vehicleId/preferences`. */
  readonly url: string;
  readonly summary: string;
  readonly tag: string;
  readonly access: RouteAccess;
  /** Sign-in and Connect endpoints: limited per client address (see `HttpServerOptions.rateLimit`). */
  readonly rateLimited?: boolean;
  readonly params?: z.ZodType<TParams>;
  readonly query?: z.ZodType<TQuery>;
  readonly body?: z.ZodType<TBody>;
  /** Documents the success body in the OpenAPI description. */
  readonly response?: z.ZodType;
  readonly successStatus?: number;
  handler(input: {
    params: TParams;
    query: TQuery;
    body: TBody;
    principal: Principal;
    request: FastifyRequest;
    reply: FastifyReply;
  }): Promise<unknown>;
}

/** Helps inference: `defineRoute({ ... })` keeps the handler's input typed from the schemas. */
export function defineRoute<TParams = unknown, TQuery = unknown, TBody = unknown>(
  route: ApiRoute<TParams, TQuery, TBody>,
): ApiRoute<TParams, TQuery, TBody> {
  return route;
}

/** Body of every 4xx/5xx answer. `issues` name each wrong field by its path. */
export const ApiProblemSchema = z.object({
  error: z.object({
    code: z.enum([
      'VALIDATION',
      'UNAUTHENTICATED',
      'FORBIDDEN',
      'NOT_FOUND',
      'CONFLICT',
      'RATE_LIMITED',
      'UPSTREAM',
      'INTERNAL',
    ]),
    message: z.string(),
    issues: z
      .array(
        z.object({ location: z.enum(['params', 'query', 'body']), path: z.string(), message: z.string() }),
      )
      .optional(),
  }),
});
export type ApiProblem = z.infer<typeof ApiProblemSchema>;

/** Thrown by handlers to answer with a given status; anything else becomes a 500 without details. */
export class ApiError extends Error {
  override name = 'ApiError';
  readonly status: number;
  readonly code: ApiProblem['error']['code'];
  constructor(status: number, code: ApiProblem['error']['code'], message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** The error body for a status (every 4xx/5xx has this shape, whoever answers). */
export function problem(status: number, message: string): ApiProblem {
  return { error: { code: problemCode(status), message } };
}

function problemCode(status: number): ApiProblem['error']['code'] {
  if (status === 401) return 'UNAUTHENTICATED';
  if (status === 403) return 'FORBIDDEN';
  if (status === 404) return 'NOT_FOUND';
  if (status === 409) return 'CONFLICT';
  if (status === 429) return 'RATE_LIMITED';
  if (status === 502 || status === 503 || status === 504) return 'UPSTREAM';
  if (status >= 500) return 'INTERNAL';
  return 'VALIDATION';
}

export interface RegisterRoutesOptions {
  /** The principal behind a request; undefined when it carries a credential that is not valid. */
  readonly identify: (request: FastifyRequest) => Promise<Principal | undefined>;
  readonly rateLimit: { readonly max: number; readonly timeWindowMs: number };
}

export function registerApiRoutes(
  app: FastifyInstance,
  routes: readonly ApiRoute[],
  options: RegisterRoutesOptions,
): void {
  for (const route of routes) {
    app.route({
      method: route.method,
      url: route.url,
      ...(route.rateLimited
        ? {
            config: { rateLimit: { max: options.rateLimit.max, timeWindow: options.rateLimit.timeWindowMs } },
          }
        : {}),
      handler: async (request, reply) => {
        // Who is asking comes first: a caller who may not use the route learns nothing about its input.
        const identified = await options.identify(request);
        // A stale cookie must not lock anyone out of signing in again: public routes see it as anonymous.
        const principal = identified ?? (route.access === 'public' ? ANONYMOUS : undefined);
        if (principal === undefined)
          return reply
            .status(401)
            .send(
              problem(
                401,
                'the API token or session is not valid (expired, revoked or unknown): sign in again',
              ),
            );
        if (!allows(route.access, principal)) {
          return principal.kind === 'anonymous'
            ? reply
                .status(401)
                .send(problem(401, 'sign in first: an API token (Authorization: Bearer) or a session'))
            : reply.status(403).send(problem(403, `this route needs ${describeAccess(route.access)}`));
        }
        const issues: NonNullable<ApiProblem['error']['issues']> = [];
        const parse = <T>(
          location: 'params' | 'query' | 'body',
          schema: z.ZodType<T> | undefined,
          value: unknown,
        ) => {
          if (!schema) return undefined as T;
          const result = schema.safeParse(value ?? (location === 'body' ? undefined : {}));
          if (result.success) return result.data;
          for (const issue of result.error.issues) {
            if (issue.code === 'unrecognized_keys') {
              // Name each unexpected field rather than its parent object.
              for (const key of issue.keys)
                issues.push({
                  location,
                  path: [...issue.path.map(String), key].join('.'),
                  message: 'unexpected field',
                });
              continue;
            }
            issues.push({
              location,
              path: issue.path.map(String).join('.') || '(root)',
              message: issue.message,
            });
          }
          return undefined as T;
        };
        const params = parse('params', route.params, request.params);
        const query = parse('query', route.query, request.query);
        const body = parse('body', route.body, request.body);
        if (issues.length > 0) {
          const named = issues.map((issue) => `${issue.location}.${issue.path}: ${issue.message}`).join('; ');
          return reply
            .status(400)
            .send({ error: { code: 'VALIDATION', message: `invalid request: ${named}`, issues } });
        }
        try {
          const result = await route.handler({ params, query, body, principal, request, reply });
          if (reply.sent) return reply;
          return reply.status(route.successStatus ?? 200).send(result ?? { ok: true });
        } catch (error) {
          if (error instanceof ApiError)
            return reply.status(error.status).send({ error: { code: error.code, message: error.message } });
          request.log.error({ err: error }, 'request failed');
          return reply.status(500).send({ error: { code: 'INTERNAL', message: 'internal error' } });
        }
      },
    });
  }
}

function describeAccess(access: RouteAccess): string {
  switch (access) {
    case 'public':
    case 'signed-in':
      return 'a signed-in owner or operator';
    case 'operator':
      return 'an operator (role read or admin)';
    case 'owner-or-admin':
      return 'the car’s owner or an admin operator';
    case 'admin':
      return 'an admin operator';
  }
}

/** An OpenAPI 3.1 description generated from the same zod schemas that validate the requests. */
export function buildOpenApiDocument(
  routes: readonly ApiRoute[],
  info: { title: string; version: string; description: string },
): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const jsonSchema = (schema: z.ZodType) => z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
  for (const route of routes) {
    const openApiPath = route.url.replace(/:([A-Za-z]+)/g, '{$1}');
    const parameters: unknown[] = [];
    for (const [location, schema] of [
      ['path', route.params],
      ['query', route.query],
    ] as const) {
      if (!schema) continue;
      const shape = jsonSchema(schema) as { properties?: Record<string, unknown>; required?: string[] };
      for (const [name, property] of Object.entries(shape.properties ?? {})) {
        parameters.push({
          name,
          in: location,
          required: location === 'path' || (shape.required ?? []).includes(name),
          schema: property,
        });
      }
    }
    paths[openApiPath] ??= {};
    const problemResponse = (description: string) => ({
      description,
      content: { 'application/json': { schema: jsonSchema(ApiProblemSchema) } },
    });
    paths[openApiPath][route.method.toLowerCase()] = {
      summary: route.summary,
      tags: [route.tag],
      'x-voltkit-access': route.access,
      security: route.access === 'public' ? [] : [{ apiToken: [] }, { session: [] }],
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(route.body
        ? {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: jsonSchema(route.body) } },
            },
          }
        : {}),
      responses: {
        [String(route.successStatus ?? 200)]: {
          description: 'Success',
          ...(route.response
            ? { content: { 'application/json': { schema: jsonSchema(route.response) } } }
            : {}),
        },
        '400': problemResponse('Invalid input; every wrong field is named'),
        ...(route.access === 'public'
          ? {}
          : {
              '401': problemResponse('Not signed in, or the token or session is not valid'),
              '403': problemResponse(`Signed in, but the route needs ${describeAccess(route.access)}`),
            }),
        ...(route.rateLimited ? { '429': problemResponse('Too many attempts from this address') } : {}),
      },
    };
  }
  return {
    openapi: '3.1.0',
    info,
    components: {
      securitySchemes: {
        apiToken: {
          type: 'http',
          scheme: 'bearer',
          description: 'operator API token (voltkit-smart-charging token create)',
        },
        session: {
          type: 'apiKey',
          in: 'cookie',
          name: 'vk_session',
          description: 'browser session (Connect or a login link)',
        },
      },
    },
    paths,
  };
}
