import { answerChallenge, ENDPOINT_SCHEMAS, isVoltkitError, parseWebhook } from '@voltkit/core/client';
import type { AnyVoltkitError, BatchItem, VehicleHandle, VoltkitClient } from '@voltkit/core/client';
import { ALL_SCOPES } from '@voltkit/core/permissions';
import type { Scope } from '@voltkit/core/permissions';
import type { LockStatus } from '@voltkit/core/types';
import { VehicleSourceError } from './vehicle-source.ts';
import type {
  Corner,
  Openings,
  OpenState,
  ReadResult,
  VehicleCommand,
  VehicleField,
  VehicleInfo,
  VehiclePush,
  VehicleReading,
  VehicleSource,
} from './vehicle-source.ts';

/** Smartcar path and scope behind each field the bridge reads. */
const FIELD_ENDPOINTS = {
  battery: { path: '/battery', scope: 'read_battery' },
  charge: { path: '/charge', scope: 'read_charge' },
  chargeLimit: { path: '/charge/limit', scope: 'read_charge' },
  batteryCapacity: { path: '/battery/capacity', scope: 'read_battery' },
  odometer: { path: '/odometer', scope: 'read_odometer' },
  location: { path: '/location', scope: 'read_location' },
  security: { path: '/security', scope: 'read_security' },
  tires: { path: '/tires/pressure', scope: 'read_tires' },
  fuel: { path: '/fuel', scope: 'read_fuel' },
  engineOil: { path: '/engine/oil', scope: 'read_engine_oil' },
} as const satisfies Record<VehicleField, { path: string; scope: Scope }>;

type FieldPath = (typeof FIELD_ENDPOINTS)[VehicleField]['path'];

/** The client's response schema for each field, to validate bodies that arrive by webhook. */
const FIELD_SCHEMAS = {
  battery: ENDPOINT_SCHEMAS.battery,
  charge: ENDPOINT_SCHEMAS.charge,
  chargeLimit: ENDPOINT_SCHEMAS.getChargeLimit,
  batteryCapacity: ENDPOINT_SCHEMAS.batteryCapacity,
  odometer: ENDPOINT_SCHEMAS.odometer,
  location: ENDPOINT_SCHEMAS.location,
  security: ENDPOINT_SCHEMAS.lockStatus,
  tires: ENDPOINT_SCHEMAS.tirePressure,
  fuel: ENDPOINT_SCHEMAS.fuel,
  engineOil: ENDPOINT_SCHEMAS.engineOil,
} as const;

const FIELD_BY_PATH = new Map<string, VehicleField>(
  (Object.keys(FIELD_ENDPOINTS) as VehicleField[]).map((field) => [FIELD_ENDPOINTS[field].path, field]),
);

/** Maps the client's typed errors onto the few cases the bridge acts on. */
export function toVehicleSourceError(error: unknown): VehicleSourceError {
  if (!isVoltkitError(error)) {
    return new VehicleSourceError(
      'unavailable',
      error instanceof Error ? error.message : 'vehicle API call failed',
      { cause: error, apiDown: true },
    );
  }
  const e: AnyVoltkitError = error;
  const message = e.message;
  const retry = e.retryAfter === undefined ? {} : { retryAfterSeconds: e.retryAfter };
  switch (e.type) {
    case 'VEHICLE_STATE':
      if (e.code === 'ASLEEP') return new VehicleSourceError('asleep', message, { cause: e });
      if (
        e.code === 'UNREACHABLE' ||
        e.code === 'VEHICLE_OFFLINE_FOR_SERVICE' ||
        e.code === 'REMOTE_ACCESS_DISABLED'
      ) {
        return new VehicleSourceError('unavailable', message, { cause: e });
      }
      return new VehicleSourceError('rejected', message, { cause: e });
    case 'RATE_LIMIT':
      return new VehicleSourceError('rate_limited', message, { cause: e, ...retry });
    case 'UPSTREAM':
      return e.code === 'RATE_LIMIT'
        ? new VehicleSourceError('rate_limited', message, {
            cause: e,
            retryAfterSeconds: e.retryAfter ?? 1800,
          })
        : new VehicleSourceError('unavailable', message, { cause: e, apiDown: true });
    case 'SERVER':
    case 'NETWORK':
    case 'TIMEOUT':
    case 'INVALID_RESPONSE':
      // The API did not answer properly: that affects every car at once.
      return new VehicleSourceError('unavailable', message, { cause: e, apiDown: true });
    case 'BILLING':
      // Monthly or plan limit: nothing to do until a human steps in; try again in a day.
      return new VehicleSourceError('rate_limited', message, {
        cause: e,
        retryAfterSeconds: e.retryAfter ?? 86_400,
      });
    case 'COMPATIBILITY':
    case 'PERMISSION':
      return new VehicleSourceError('unsupported', message, { cause: e });
    case 'AUTHENTICATION':
    case 'OAUTH':
    case 'CONNECTED_SERVICES_ACCOUNT':
    case 'RESOURCE_NOT_FOUND':
    case 'VALIDATION':
    case 'INVALID_INPUT':
    case 'UNKNOWN':
      // The car cannot be read right now (auth lost, API down, broken answer): show it as unavailable.
      return new VehicleSourceError('unavailable', message, { cause: e });
  }
}

const openState = (status: string): OpenState =>
  status === 'OPEN' ? 'open' : status === 'CLOSED' || status === 'LOCKED' ? 'closed' : 'unknown';

/** `/security` lists each part; an empty list means the car does not report that part. */
function toOpenings(v: LockStatus): Openings {
  const out: Openings = {};
  const corners = (list: LockStatus['doors']): Partial<Record<Corner, OpenState>> | undefined => {
    if (list.length === 0) return undefined;
    const map: Partial<Record<Corner, OpenState>> = {};
    for (const item of list) map[item.type] = openState(item.status);
    return map;
  };
  const doors = corners(v.doors);
  const windows = corners(v.windows);
  if (doors) out.doors = doors;
  if (windows) out.windows = windows;
  if (v.sunroof[0]) out.sunroof = openState(v.sunroof[0].status);
  const trunk = v.storage.find((s) => s.type === 'rear');
  const frunk = v.storage.find((s) => s.type === 'front');
  if (trunk) out.trunk = openState(trunk.status);
  if (frunk) out.frunk = openState(frunk.status);
  if (v.chargingPort[0]) out.chargePort = openState(v.chargingPort[0].status);
  return out;
}

/** Folds one endpoint's body (metric units) into a reading. */
function applyField(reading: VehicleReading, field: VehicleField, value: unknown): void {
  switch (field) {
    case 'battery': {
      const v = value as { percentRemaining: number; range: number };
      reading.socPercent = v.percentRemaining * 100;
      reading.rangeKm = v.range;
      break;
    }
    case 'charge': {
      const v = value as { isPluggedIn: boolean; state: 'CHARGING' | 'FULLY_CHARGED' | 'NOT_CHARGING' };
      reading.pluggedIn = v.isPluggedIn;
      reading.chargeState =
        v.state === 'CHARGING' ? 'charging' : v.state === 'FULLY_CHARGED' ? 'fully_charged' : 'not_charging';
      break;
    }
    case 'chargeLimit':
      reading.chargeLimitPercent = (value as { limit: number }).limit * 100;
      break;
    case 'batteryCapacity':
      reading.batteryCapacityKwh = (value as { capacity: number }).capacity;
      break;
    case 'odometer':
      reading.odometerKm = (value as { distance: number }).distance;
      break;
    case 'location': {
      const v = value as { latitude: number; longitude: number };
      reading.location = { latitude: v.latitude, longitude: v.longitude };
      break;
    }
    case 'security': {
      const v = value as LockStatus;
      reading.locked = v.isLocked;
      reading.openings = toOpenings(v);
      break;
    }
    case 'tires': {
      const v = value as { frontLeft: number; frontRight: number; backLeft: number; backRight: number };
      reading.tirePressureKpa = {
        frontLeft: v.frontLeft,
        frontRight: v.frontRight,
        backLeft: v.backLeft,
        backRight: v.backRight,
      };
      break;
    }
    case 'fuel': {
      const v = value as {
        amountRemaining: number | null;
        percentRemaining: number | null;
        range: number | null;
      };
      reading.fuelPercent = v.percentRemaining === null ? null : v.percentRemaining * 100;
      reading.fuelRangeKm = v.range;
      reading.fuelLiters = v.amountRemaining;
      break;
    }
    case 'engineOil':
      reading.oilLifePercent = (value as { lifeRemaining: number }).lifeRemaining * 100;
      break;
  }
}

interface Bound {
  readonly handle: VehicleHandle<Scope>;
  readonly scopes: ReadonlySet<Scope>;
}

export interface CoreVehicleSourceOptions {
  readonly client: VoltkitClient;
  /** Grant ids (token store keys) whose vehicles to bridge; re-read on every vehicle list. */
  readonly grantIds: () => Promise<readonly string[]>;
  /** Webhooks as a push source: the application management token (signs deliveries) and the webhook to subscribe cars to. */
  readonly webhook?: { readonly amt: string; readonly webhookId?: string | undefined };
}

export interface WebhookReply {
  readonly status: number;
  readonly body: unknown;
}

export interface CoreVehicleSource extends VehicleSource {
  /** Handles one webhook delivery (raw body + SC-Signature header); the reply goes back to the platform. */
  handleWebhook(rawBody: Buffer, signature: string | undefined): WebhookReply;
}

/**
 * Vehicles through `@voltkit/core`: one handle per car built from the permissions the owner actually
 * granted, every poll as one batch request, commands through the typed methods.
 */
export function createCoreVehicleSource(options: CoreVehicleSourceOptions): CoreVehicleSource {
  const bound = new Map<string, Bound>();
  const pushListeners = new Set<(push: VehiclePush) => void>();
  const emit = (push: VehiclePush): void => {
    for (const listener of pushListeners) listener(push);
  };

  const bind = async (grantId: string, vehicleId: string): Promise<VehicleInfo> => {
    const grant = options.client.grant(grantId);
    const granted = await grant.vehicle(vehicleId, { scopes: [] }).permissions();
    const known = new Set<string>(ALL_SCOPES);
    const scopes = new Set(granted.permissions.filter((p): p is Scope => known.has(p)));
    const handle: VehicleHandle<Scope> = grant.vehicle<readonly Scope[]>(vehicleId, { scopes: [...scopes] });
    bound.set(vehicleId, { handle, scopes });
    let make: string | undefined;
    let model: string | undefined;
    let year: number | undefined;
    let vin: string | undefined;
    if (scopes.has('read_vehicle_info')) {
      const attributes = await handle.attributes().catch(() => undefined);
      make = attributes?.make;
      model = attributes?.model;
      year = attributes?.year;
    }
    if (scopes.has('read_vin')) vin = (await handle.vin().catch(() => undefined))?.vin;
    if (options.webhook?.webhookId) {
      // Best effort: without a subscription the car is simply polled.
      await handle.subscribe(options.webhook.webhookId).catch(() => undefined);
    }
    const fields = new Set(
      (Object.keys(FIELD_ENDPOINTS) as VehicleField[]).filter((field) =>
        scopes.has(FIELD_ENDPOINTS[field].scope),
      ),
    );
    return {
      id: vehicleId,
      fields,
      ...(vin ? { vin } : {}),
      ...(make ? { make } : {}),
      ...(model ? { model } : {}),
      ...(year !== undefined ? { year } : {}),
    };
  };

  const handleFor = (vehicleId: string): Bound => {
    const entry = bound.get(vehicleId);
    if (!entry) throw new VehicleSourceError('unavailable', `vehicle ${vehicleId} is not bound to a grant`);
    return entry;
  };

  return {
    async listVehicles() {
      const vehicles: VehicleInfo[] = [];
      const seen = new Set<string>();
      for (const grantId of await options.grantIds()) {
        let ids: string[];
        try {
          ids = await options.client.grant(grantId).allVehicleIds();
        } catch (error) {
          // A refresh token the platform rejects is permanent (the owner revoked access or every car was
          // disconnected): that grant has no cars any more. Anything else may be transient.
          if (isVoltkitError(error) && error.type === 'OAUTH' && error.code === 'invalid_grant') continue;
          throw toVehicleSourceError(error);
        }
        for (const id of ids) {
          if (seen.has(id)) continue;
          seen.add(id);
          try {
            vehicles.push(await bind(grantId, id));
          } catch (error) {
            throw toVehicleSourceError(error);
          }
        }
      }
      return vehicles;
    },

    async read(vehicleId, fields): Promise<ReadResult> {
      const { handle } = handleFor(vehicleId);
      const paths = fields.map((field) => FIELD_ENDPOINTS[field].path);
      let batch: Awaited<ReturnType<typeof handle.batch<readonly FieldPath[]>>>;
      try {
        batch = await handle.batch(paths, { unitSystem: 'metric' });
      } catch (error) {
        throw toVehicleSourceError(error);
      }
      const reading: VehicleReading = {};
      const errors = new Map<VehicleField, VehicleSourceError>();
      const item = <T>(field: VehicleField): T | undefined => {
        const result = (batch.results as Record<string, BatchItem<unknown> | undefined>)[
          FIELD_ENDPOINTS[field].path
        ];
        if (!result) return undefined;
        if (!result.ok) {
          errors.set(field, toVehicleSourceError(result.error));
          return undefined;
        }
        return result.value as T;
      };
      let newestAge: Date | undefined;
      const recordedAt = new Map<VehicleField, Date>();
      for (const field of fields) {
        const value = item<Record<string, unknown> & { meta?: { dataAge?: Date } }>(field);
        if (!value) continue;
        const age = value.meta?.dataAge;
        if (age) recordedAt.set(field, age);
        if (age && (!newestAge || age > newestAge)) newestAge = age;
        applyField(reading, field, value);
      }
      if (newestAge) reading.dataAge = newestAge;
      // Every item failed the same way (asleep, unreachable): the read as a whole failed.
      const failures = [...errors.values()];
      if (failures.length === fields.length && failures.length > 0) {
        const first = failures[0]!;
        if (failures.every((f) => f.kind === first.kind) && first.kind !== 'unsupported') throw first;
      }
      return { reading, errors, requestCount: paths.length, recordedAt };
    },

    async checkApi() {
      // Lists the cars of one grant: an API call that no car sees (no wake-up) and no vehicle budget pays.
      const [first] = await options.grantIds();
      if (first === undefined) return;
      try {
        await options.client.grant(first).allVehicleIds();
      } catch (error) {
        throw toVehicleSourceError(error);
      }
    },

    onPush(listener) {
      pushListeners.add(listener);
      return () => pushListeners.delete(listener);
    },

    handleWebhook(rawBody, signature) {
      if (!options.webhook) return { status: 404, body: { error: 'webhooks are not configured' } };
      let payload;
      try {
        payload = parseWebhook(rawBody, signature, options.webhook.amt);
      } catch (error) {
        // Bad signature or body: refuse without saying more than needed.
        return { status: 400, body: { error: isVoltkitError(error) ? error.type : 'invalid webhook' } };
      }
      switch (payload.eventName) {
        case 'verify':
          return { status: 200, body: answerChallenge(options.webhook.amt, payload.payload.challenge) };
        case 'schedule':
        case 'scheduled':
        case 'dynamic':
          for (const vehicle of payload.payload.vehicles) {
            if (!bound.has(vehicle.vehicleId)) continue;
            const reading: VehicleReading = {};
            for (const item of vehicle.data) {
              const field = FIELD_BY_PATH.get(item.path.startsWith('/') ? item.path : `/${item.path}`);
              if (!field || item.code !== 200) continue;
              const parsed = FIELD_SCHEMAS[field].safeParse(item.body);
              if (parsed.success) applyField(reading, field, parsed.data);
            }
            if (Object.keys(reading).length > 0) emit({ vehicleId: vehicle.vehicleId, reading });
          }
          return { status: 200, body: { status: 'ok' } };
        case 'eventBased': {
          const { vehicleId, eventType } = payload.payload;
          if (bound.has(vehicleId)) {
            const chargeState =
              eventType === 'CHARGING_STARTED'
                ? 'charging'
                : eventType === 'CHARGING_COMPLETED'
                  ? 'fully_charged'
                  : 'not_charging';
            emit({ vehicleId, reading: { chargeState, pluggedIn: true } });
          }
          return { status: 200, body: { status: 'ok' } };
        }
      }
    },

    async command(vehicleId, command: VehicleCommand) {
      const { handle, scopes } = handleFor(vehicleId);
      const needed: Scope =
        command.kind === 'lock' || command.kind === 'unlock' ? 'control_security' : 'control_charge';
      if (!scopes.has(needed))
        throw new VehicleSourceError('unsupported', `the owner did not grant ${needed}`);
      try {
        switch (command.kind) {
          case 'startCharge':
            await handle.startCharge();
            return;
          case 'stopCharge':
            await handle.stopCharge();
            return;
          case 'setChargeLimit':
            await handle.setChargeLimit(command.percent / 100);
            return;
          case 'lock':
            await handle.lock();
            return;
          case 'unlock':
            await handle.unlock();
            return;
        }
      } catch (error) {
        throw toVehicleSourceError(error);
      }
    },
  };
}
