import { z } from 'zod';

/** Everything the simulator remembers, as zod schemas: the snapshot file is parsed with these on load. */

export const ConnectModeSchema = z.enum(['live', 'test', 'simulated']);
export type ConnectMode = z.infer<typeof ConnectModeSchema>;

/** An error a vehicle answers on its data and command endpoints (Smartcar test-mode emails, or injected). */
export const ForcedErrorSchema = z.object({ type: z.string().min(1), code: z.string().nullable() });
export type ForcedError = z.infer<typeof ForcedErrorSchema>;

const OpenClosed = z.enum(['OPEN', 'CLOSED']);
const Corners = <T extends z.ZodType>(value: T) =>
  z.object({ frontLeft: value, frontRight: value, backLeft: value, backRight: value });

export const ChargeStateSchema = z.enum(['CHARGING', 'FULLY_CHARGED', 'NOT_CHARGING']);
export type ChargeState = z.infer<typeof ChargeStateSchema>;

export const ServiceRecordSchema = z.object({
  serviceId: z.number().int(),
  serviceDate: z.string(),
  odometerKm: z.number(),
  tasks: z.array(z.string()),
  totalCost: z.number(),
  currency: z.string(),
});
export type ServiceRecord = z.infer<typeof ServiceRecordSchema>;

export const VehicleStateSchema = z.object({
  /** High-voltage battery state of charge, 0..1 (`null` for combustion cars). */
  soc: z.number().min(0).max(1).nullable(),
  fuelLiters: z.number().min(0).nullable(),
  odometerKm: z.number().min(0),
  latitude: z.number().min(-90).max(90),
  longitude: z.number().min(-180).max(180),
  headingDeg: z.number(),
  pluggedIn: z.boolean(),
  /** Whether the car will draw power when plugged in and below its limit (stop-charge clears it). */
  chargeEnabled: z.boolean(),
  chargeLimit: z.number().min(0.5).max(1),
  /** Power the charging station offers, kW (the car takes the lower of this and its on-board charger). */
  stationKw: z.number().positive(),
  chargeState: ChargeStateSchema,
  isLocked: z.boolean(),
  doors: Corners(OpenClosed),
  windows: Corners(OpenClosed),
  sunroof: OpenClosed,
  trunk: OpenClosed,
  hood: OpenClosed,
  chargingPort: OpenClosed,
  /** Cold tire pressures, kPa. */
  tiresKpa: Corners(z.number().min(0)),
  oilLife: z.number().min(0).max(1),
  asleep: z.boolean(),
  unreachable: z.boolean(),
  drive: z.object({ remainingKm: z.number().min(0), speedKph: z.number().positive() }).nullable(),
  destination: z.object({ latitude: z.number(), longitude: z.number() }).nullable(),
  dtcs: z.array(z.object({ code: z.string(), timestamp: z.string().nullable() })),
  serviceRecords: z.array(ServiceRecordSchema),
  /** When the car last recorded its data (SC-Data-Age). */
  recordedAt: z.number(),
  /** Simulated time physics has been computed up to. */
  updatedAt: z.number(),
});
export type VehicleState = z.infer<typeof VehicleStateSchema>;

export const VehicleRecordSchema = z.object({
  id: z.uuid(),
  accountId: z.uuid(),
  vin: z.string().length(17),
  make: z.string(),
  model: z.string(),
  year: z.number().int(),
  forcedError: ForcedErrorSchema.nullable(),
  state: VehicleStateSchema,
});
export type VehicleRecord = z.infer<typeof VehicleRecordSchema>;

export const AccountRecordSchema = z.object({
  id: z.uuid(),
  email: z.string(),
  /** `null`: any password signs in (test and simulated mode accounts). */
  password: z.string().nullable(),
  forcedError: ForcedErrorSchema.nullable(),
  createdAt: z.number(),
});
export type AccountRecord = z.infer<typeof AccountRecordSchema>;

export const AppRecordSchema = z.object({
  clientId: z.string(),
  clientSecret: z.string(),
  managementToken: z.string(),
  name: z.string(),
  redirectUris: z.array(z.string()),
  createdAt: z.number(),
});
export type AppRecord = z.infer<typeof AppRecordSchema>;

export const GrantRecordSchema = z.object({
  id: z.uuid(),
  clientId: z.string(),
  userId: z.uuid(),
  mode: ConnectModeSchema,
  scopes: z.array(z.string()),
  vehicles: z.array(z.object({ vehicleId: z.uuid(), connectedAt: z.number() })),
});
export type GrantRecord = z.infer<typeof GrantRecordSchema>;

export const AuthCodeRecordSchema = z.object({
  code: z.string(),
  clientId: z.string(),
  /** The redirect URI Connect used; the token exchange must repeat it exactly. */
  redirectUri: z.string(),
  grantId: z.uuid(),
  expiresAt: z.number(),
  /** When the code was exchanged; a spent code is kept until it expires so that its reuse is noticed. */
  usedAt: z.number().nullable().default(null),
  /** The token family the exchange started (revoked if the code comes back). */
  familyId: z.string().optional(),
});
export type AuthCodeRecord = z.infer<typeof AuthCodeRecordSchema>;

export const TokenRecordSchema = z.object({
  token: z.string(),
  grantId: z.uuid(),
  /** One code exchange and its refreshes; absent in snapshots written before families existed. */
  familyId: z.string().optional(),
  expiresAt: z.number(),
});
export type TokenRecord = z.infer<typeof TokenRecordSchema>;

export const WebhookRecordSchema = z.object({
  id: z.uuid(),
  clientId: z.string(),
  url: z.url(),
  type: z.enum(['scheduled', 'eventBased']),
  /** Scheduled webhooks: simulated ms between deliveries. */
  intervalMs: z.number().int().positive().nullable(),
  /** Scheduled webhooks: data paths delivered (`/battery`, `/odometer`, …). */
  paths: z.array(z.string()),
  verified: z.boolean(),
  vehicleIds: z.array(z.uuid()),
  nextDueAt: z.number().nullable(),
});
export type WebhookRecord = z.infer<typeof WebhookRecordSchema>;

/** A half-finished visit to Connect, bound to the browser that opened it. */
export const ConnectSessionRecordSchema = z.object({
  id: z.uuid(),
  clientId: z.string(),
  /** `redirect_uri` exactly as given ('' when omitted); the token exchange must repeat it. */
  redirectUri: z.string(),
  /** Where the browser goes at the end (validated against the app's registered URIs). */
  redirectTarget: z.string(),
  scopes: z.array(z.string()),
  required: z.array(z.string()),
  state: z.string().nullable(),
  mode: ConnectModeSchema,
  approvalPrompt: z.enum(['auto', 'force']),
  singleSelect: z.boolean(),
  singleSelectVin: z.string().nullable(),
  /** Make of the chosen brand. */
  brand: z.string().nullable(),
  accountId: z.uuid().nullable(),
  /** Wall-clock ms: a browser visit lives in real time, whatever the simulated clock does. */
  createdAt: z.number(),
  /** SHA-256 (hex) of the secret in the browser's HttpOnly cookie. */
  bindingHash: z.string(),
  csrfToken: z.string(),
});
export type ConnectSessionRecord = z.infer<typeof ConnectSessionRecordSchema>;

export const SnapshotSchema = z.object({
  version: z.literal(1),
  savedAt: z.number(),
  clockMs: z.number(),
  apps: z.array(AppRecordSchema),
  accounts: z.array(AccountRecordSchema),
  vehicles: z.array(VehicleRecordSchema),
  grants: z.array(GrantRecordSchema),
  codes: z.array(AuthCodeRecordSchema),
  accessTokens: z.array(TokenRecordSchema),
  refreshTokens: z.array(TokenRecordSchema),
  /** Rotated refresh tokens, kept until they would have expired so that a reuse is detected. */
  spentRefreshTokens: z.array(TokenRecordSchema).default([]),
  connectSessions: z.array(ConnectSessionRecordSchema).default([]),
  webhooks: z.array(WebhookRecordSchema),
});
export type Snapshot = z.infer<typeof SnapshotSchema>;
