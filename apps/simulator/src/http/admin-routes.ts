import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { ApiError } from '../api-error.ts';
import { BRANDS } from '../catalog/brands.ts';
import { summarizeVehicle, type SimulatorEngine } from '../engine.ts';
import { redirectUriProblem } from '../oauth/redirect-uri.ts';
import { RateLimitsSchema } from '../rate-limit.ts';
import { ConnectModeSchema, ForcedErrorSchema } from '../state/records.ts';
import { headerValue, parseOrThrow, sendJson } from './reply.ts';

/** Prefix of the simulator's own management API, kept apart from the Smartcar-compatible surface. */
export const ADMIN_PREFIX = '/_simulator';

const OpenClosed = z.enum(['OPEN', 'CLOSED']);
const corners = <T extends z.ZodType>(value: T) =>
  z.object({ frontLeft: value, frontRight: value, backLeft: value, backRight: value }).partial().strict();

export const VehiclePatchSchema = z
  .object({
    soc: z.number().min(0).max(1),
    fuelPercent: z.number().min(0).max(1),
    pluggedIn: z.boolean(),
    stationKw: z.number().positive().max(350),
    chargeLimit: z.number().min(0.5).max(1),
    asleep: z.boolean(),
    unreachable: z.boolean(),
    isLocked: z.boolean(),
    doors: corners(OpenClosed),
    windows: corners(OpenClosed),
    trunk: OpenClosed,
    hood: OpenClosed,
    sunroof: OpenClosed,
    tiresKpa: corners(z.number().min(0).max(1000)),
    oilLife: z.number().min(0).max(1),
    location: z.object({ latitude: z.number().min(-90).max(90), longitude: z.number().min(-180).max(180) }),
    dtcs: z.array(z.string().min(1).max(16)).max(50),
    forcedError: ForcedErrorSchema.nullable(),
  })
  .partial()
  .strict();

export const RegisterAppSchema = z.object({
  name: z.string().min(1).max(200),
  redirectUris: z
    .array(
      z
        .string()
        .min(1)
        .max(2000)
        .superRefine((uri, context) => {
          const problem = redirectUriProblem(uri);
          if (problem !== undefined) context.addIssue({ code: 'custom', message: problem });
        }),
    )
    .max(50),
});

export const CreateAccountSchema = z.object({
  email: z.string().min(3).max(320),
  password: z.string().max(200).nullable().optional(),
  brand: z.string().optional(),
  model: z.string().optional(),
  vehicleCount: z.number().int().min(1).max(20).optional(),
});

export const AuthorizeSchema = z.object({
  clientId: z.string(),
  redirectUri: z.string().optional(),
  scope: z.union([z.string(), z.array(z.string())]),
  email: z.string().min(3),
  make: z.string().optional(),
  mode: ConnectModeSchema.optional(),
  password: z.string().optional(),
});

export const DriveSchema = z.object({
  distanceKm: z.number().positive().max(5_000),
  speedKph: z.number().positive().max(300).optional(),
});

export const CreateWebhookSchema = z.object({
  clientId: z.string(),
  url: z.url(),
  type: z.enum(['scheduled', 'eventBased']).optional(),
  intervalMs: z.number().int().positive().optional(),
  paths: z.array(z.string()).max(20).optional(),
});

const AdvanceSchema = z.object({
  ms: z
    .number()
    .min(0)
    .max(366 * 86_400_000),
});
const SpeedSchema = z.object({ speed: z.number().positive().max(1_000_000) });

/** Drops `undefined` keys so zod's optional output fits exactOptionalPropertyTypes signatures. */
function defined<T extends object>(value: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as never;
}

/** Programmer errors from the engine (unknown id, impossible change) become 400 VALIDATION. */
function asValidation<T>(run: () => T): T {
  try {
    return run();
  } catch (error) {
    if (error instanceof ApiError) throw error;
    throw new ApiError('VALIDATION', null, {
      description: error instanceof Error ? error.message : String(error),
    });
  }
}

export interface AdminHooks {
  advance(ms: number): Promise<void>;
  setSpeed(speed: number): void;
}

/** `/_simulator/...`: apps, accounts, vehicles, clock, rate limits, webhooks. Bearer management token. */
export function registerAdminRoutes(
  app: FastifyInstance,
  engine: SimulatorEngine,
  managementToken: string,
  hooks: AdminHooks,
): void {
  const guard = (request: FastifyRequest) => {
    if (headerValue(request, 'authorization') !== `Bearer ${managementToken}`)
      throw new ApiError('AUTHENTICATION', null);
  };
  const ok = (request: FastifyRequest, reply: FastifyReply, body: unknown) =>
    sendJson(request, reply, 200, body);

  app.get(`${ADMIN_PREFIX}/health`, (request, reply) =>
    ok(request, reply, { status: 'ok', now: new Date(engine.now()).toISOString() }),
  );

  app.register(
    (scoped, _options, done) => {
      scoped.addHook('onRequest', (request, _reply, done) => {
        try {
          guard(request);
          done();
        } catch (error) {
          done(error as Error);
        }
      });

      scoped.get('/brands', (request, reply) =>
        ok(
          request,
          reply,
          BRANDS.map((b) => ({
            make: b.make,
            id: b.id,
            regions: b.regions,
            models: b.models.map((m) => ({
              model: m.model,
              startYear: m.startYear,
              endYear: m.endYear,
              powertrain: m.powertrain,
              batteryKwh: m.batteryKwh,
              tankLiters: m.tankLiters,
              capabilities: [...m.capabilities],
            })),
          })),
        ),
      );

      scoped.post('/apps', (request, reply) => {
        const input = parseOrThrow(RegisterAppSchema, request.body);
        return ok(request, reply, engine.registerApp(input));
      });
      scoped.get('/apps', (request, reply) =>
        ok(
          request,
          reply,
          [...engine.store.apps.values()].map((a) => ({
            clientId: a.clientId,
            name: a.name,
            redirectUris: a.redirectUris,
          })),
        ),
      );

      scoped.post('/accounts', (request, reply) => {
        const input = parseOrThrow(CreateAccountSchema, request.body);
        return ok(
          request,
          reply,
          asValidation(() => engine.createTestAccount(defined(input))),
        );
      });

      scoped.post('/authorize', (request, reply) => {
        const input = parseOrThrow(AuthorizeSchema, request.body);
        return ok(
          request,
          reply,
          asValidation(() => engine.consent.authorize(defined(input))),
        );
      });

      scoped.get('/vehicles', (request, reply) =>
        ok(
          request,
          reply,
          [...engine.store.vehicles.values()].map((v) => ({
            ...summarizeVehicle(v),
            accountId: v.accountId,
          })),
        ),
      );
      scoped.get<{ Params: { id: string } }>('/vehicles/:id', (request, reply) => {
        const vehicle = asValidation(() => engine.vehicleById(request.params.id));
        engine.syncVehicle(vehicle);
        return ok(request, reply, vehicle);
      });
      scoped.patch<{ Params: { id: string } }>('/vehicles/:id', (request, reply) => {
        const patch = parseOrThrow(VehiclePatchSchema, request.body);
        return ok(
          request,
          reply,
          asValidation(() => engine.updateVehicle(request.params.id, defined(patch))),
        );
      });
      scoped.post<{ Params: { id: string } }>('/vehicles/:id/drive', (request, reply) => {
        const input = parseOrThrow(DriveSchema, request.body);
        return ok(
          request,
          reply,
          asValidation(() => engine.drive(request.params.id, defined(input))),
        );
      });

      scoped.post('/webhooks', async (request, reply) => {
        const input = parseOrThrow(CreateWebhookSchema, request.body);
        const webhook = await engine.createWebhook(defined(input)).catch((error: unknown) => {
          throw new ApiError('VALIDATION', null, {
            description: error instanceof Error ? error.message : 'invalid webhook',
          });
        });
        return ok(request, reply, webhook);
      });

      scoped.get('/clock', (request, reply) =>
        ok(request, reply, {
          now: new Date(engine.now()).toISOString(),
          mode: engine.clock.mode,
          speed: engine.clock.speed,
        }),
      );
      scoped.post('/clock/advance', async (request, reply) => {
        const { ms } = parseOrThrow(AdvanceSchema, request.body);
        if (engine.clock.mode !== 'manual')
          throw new ApiError('VALIDATION', null, { description: 'the clock is not manual' });
        await hooks.advance(ms);
        return ok(request, reply, { now: new Date(engine.now()).toISOString() });
      });
      scoped.post('/clock/speed', (request, reply) => {
        const { speed } = parseOrThrow(SpeedSchema, request.body);
        asValidation(() => hooks.setSpeed(speed));
        return ok(request, reply, { speed: engine.clock.speed });
      });

      scoped.put('/rate-limits', (request, reply) => {
        const limits = parseOrThrow(RateLimitsSchema, request.body);
        if (limits.app !== undefined) engine.appLimits.setLimit(limits.app);
        if (limits.vehicle !== undefined) engine.vehicleLimits.setLimit(limits.vehicle);
        return ok(request, reply, { app: engine.appLimits.limit, vehicle: engine.vehicleLimits.limit });
      });
      done();
    },
    { prefix: ADMIN_PREFIX },
  );
}
