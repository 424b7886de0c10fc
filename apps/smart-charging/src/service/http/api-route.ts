import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** One API operation: its zod-validated inputs, documented output and handler. */
export interface ApiRoute<TParams = unknown, TQuery = unknown, TBody = unknown> {
  readonly method: HttpMethod;
  /** Fastify path syntax, e.g. `/api/vehicles/:vehicleId/preferences`. */
  readonly url: string;
  readonly summary: string;
  readonly tag: string;
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
    code: z.enum(['VALIDATION', 'NOT_FOUND', 'CONFLICT', 'UPSTREAM', 'INTERNAL']),
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

export function registerApiRoutes(app: FastifyInstance, routes: readonly ApiRoute[]): void {
  for (const route of routes) {
    app.route({
      method: route.method,
      url: route.url,
      handler: async (request, reply) => {
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
          const result = await route.handler({ params, query, body, request, reply });
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
    paths[openApiPath][route.method.toLowerCase()] = {
      summary: route.summary,
      tags: [route.tag],
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
        '400': {
          description: 'Invalid input; every wrong field is named',
          content: { 'application/json': { schema: jsonSchema(ApiProblemSchema) } },
        },
      },
    };
  }
  return { openapi: '3.1.0', info, paths };
}
