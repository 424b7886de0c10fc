import { isVoltkitError, type VoltkitClient, type VoltkitError } from '@voltkit/core/client';
import type { Scope } from '@voltkit/core/permissions';

/** Scopes smart charging cannot work without, and the ones it uses when granted. */
export const SMART_CHARGING_SCOPES: {
  readonly required: readonly Scope[];
  readonly optional: readonly Scope[];
} = {
  required: ['read_vehicle_info', 'read_battery', 'read_charge', 'control_charge'],
  optional: ['read_location', 'read_odometer'],
};

const CHARGING_SCOPES = ['read_battery', 'read_charge', 'control_charge'] as const;

export interface ChargingState {
  /** Fraction 0..1. */
  readonly soc: number;
  readonly pluggedIn: boolean;
  readonly charging: 'CHARGING' | 'FULLY_CHARGED' | 'NOT_CHARGING';
  /** Fraction 0..1, or null when the car cannot tell (for example while unplugged). */
  readonly chargeLimit: number | null;
  /** Range on the current charge (km), as the car estimates it; absent in states stored before it was read. */
  readonly rangeKm?: number | null;
  readonly readAt: Date;
}

/** How the service reaches one car: everything goes through `@voltkit/core`. */
export interface VehicleGateway {
  readChargingState(grantId: string, vehicleId: string): Promise<ChargingState>;
  startCharge(grantId: string, vehicleId: string): Promise<void>;
  stopCharge(grantId: string, vehicleId: string): Promise<void>;
  setChargeLimit(grantId: string, vehicleId: string, limit: number): Promise<void>;
  /** Where the car is; needs the optional `read_location` scope. */
  readLocation(grantId: string, vehicleId: string): Promise<{ latitude: number; longitude: number }>;
}

export function createVehicleGateway(
  client: VoltkitClient,
  now: () => Date = () => new Date(),
): VehicleGateway {
  const handle = (grantId: string, vehicleId: string) =>
    client.grant(grantId).vehicle(vehicleId, { scopes: CHARGING_SCOPES });
  return {
    async readChargingState(grantId, vehicleId) {
      const batch = await handle(grantId, vehicleId).batch(['/battery', '/charge', '/charge/limit']);
      const battery = batch.get('/battery');
      const charge = batch.get('/charge');
      const limit = batch.results['/charge/limit'];
      return {
        soc: battery.percentRemaining,
        pluggedIn: charge.isPluggedIn,
        charging: charge.state,
        chargeLimit: limit.ok ? limit.value.limit : null,
        rangeKm: Number.isFinite(battery.range) ? battery.range : null,
        readAt: now(),
      };
    },
    async startCharge(grantId, vehicleId) {
      await handle(grantId, vehicleId).startCharge();
    },
    async stopCharge(grantId, vehicleId) {
      await handle(grantId, vehicleId).stopCharge();
    },
    async setChargeLimit(grantId, vehicleId, limit) {
      await handle(grantId, vehicleId).setChargeLimit(limit);
    },
    async readLocation(grantId, vehicleId) {
      const { latitude, longitude } = await client
        .grant(grantId)
        .vehicle(vehicleId, { scopes: ['read_location'] })
        .location();
      return { latitude, longitude };
    },
  };
}

/** What to do about a failed vehicle call. */
export type FailureVerdict =
  /** Transient: try again later (asleep, unreachable, rate limited, upstream or network trouble). */
  | { readonly kind: 'retry'; readonly afterSeconds: number | null; readonly reason: string }
  /** The car's situation changed (unplugged, …): give up on this command and re-plan. */
  | { readonly kind: 'replan'; readonly reason: string }
  /** The grant no longer works: the owner must reconnect. */
  | { readonly kind: 'reconnect'; readonly reason: string }
  | { readonly kind: 'fail'; readonly reason: string };

const TRANSIENT_VEHICLE_STATES = new Set(['ASLEEP', 'UNREACHABLE', 'UNKNOWN', 'REMOTE_ACCESS_DISABLED']);

export function classifyFailure(error: unknown): FailureVerdict {
  if (!isVoltkitError(error))
    return { kind: 'fail', reason: error instanceof Error ? error.message : String(error) };
  const reason = describe(error);
  switch (error.type) {
    case 'VEHICLE_STATE':
      return error.code !== null && TRANSIENT_VEHICLE_STATES.has(error.code)
        ? { kind: 'retry', afterSeconds: null, reason }
        : { kind: 'replan', reason };
    case 'RATE_LIMIT':
      return { kind: 'retry', afterSeconds: error.retryAfter ?? null, reason };
    case 'UPSTREAM':
    case 'SERVER':
    case 'NETWORK':
    case 'TIMEOUT':
      return { kind: 'retry', afterSeconds: error.retryAfter ?? null, reason };
    case 'OAUTH':
      // A refused refresh token means revoked or expired; other OAuth trouble may pass.
      return error.code === 'invalid_grant'
        ? { kind: 'reconnect', reason }
        : { kind: 'retry', afterSeconds: null, reason };
    case 'AUTHENTICATION':
    case 'PERMISSION':
    case 'CONNECTED_SERVICES_ACCOUNT':
      return { kind: 'reconnect', reason };
    case 'BILLING':
    case 'COMPATIBILITY':
    case 'INVALID_INPUT':
    case 'INVALID_RESPONSE':
    case 'RESOURCE_NOT_FOUND':
    case 'UNKNOWN':
    case 'VALIDATION':
      return { kind: 'fail', reason };
  }
}

/** `VEHICLE_STATE:ASLEEP`: short, stable, and free of anything secret. */
export function describe(error: VoltkitError): string {
  return error.code === null ? error.type : `${error.type}:${error.code}`;
}
