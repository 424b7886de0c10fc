/**
 * The bridge's only view of vehicles. Implemented over `@voltkit/core`'s client (core-vehicle-source.ts);
 * anything else that can list, read and command cars (a benchmark's synthetic fleet) can stand in.
 */

/** What can be read, one item per Smartcar endpoint (each costs one request). */
export const VEHICLE_FIELDS = [
  'battery',
  'charge',
  'chargeLimit',
  'batteryCapacity',
  'odometer',
  'location',
  'security',
  'tires',
  'fuel',
  'engineOil',
] as const;
export type VehicleField = (typeof VEHICLE_FIELDS)[number];

export type ChargeState = 'charging' | 'fully_charged' | 'not_charging';

/** Values normalised to metric units and percentages 0..100. A missing key means "not read". */
export interface VehicleReading {
  socPercent?: number;
  rangeKm?: number;
  pluggedIn?: boolean;
  chargeState?: ChargeState;
  chargeLimitPercent?: number;
  batteryCapacityKwh?: number;
  odometerKm?: number;
  location?: { latitude: number; longitude: number; accuracyM?: number; headingDeg?: number };
  locked?: boolean;
  /** Doors, windows, sunroof, trunk (rear), frunk (front) and charge port as the API reports them. */
  openings?: Openings;
  tirePressureKpa?: { frontLeft: number; frontRight: number; backLeft: number; backRight: number };
  fuelPercent?: number | null;
  fuelRangeKm?: number | null;
  fuelLiters?: number | null;
  oilLifePercent?: number;
  /** When the car recorded the data (SC-Data-Age), if the source knows it. */
  dataAge?: Date;
}

export type OpenState = 'open' | 'closed' | 'unknown';
export type Corner = 'frontLeft' | 'frontRight' | 'backLeft' | 'backRight';

/** Each part the car reports; a part the car does not report is absent (an empty list from the API). */
export interface Openings {
  doors?: Partial<Record<Corner, OpenState>>;
  windows?: Partial<Record<Corner, OpenState>>;
  sunroof?: OpenState;
  trunk?: OpenState;
  frunk?: OpenState;
  chargePort?: OpenState;
}

export interface VehicleInfo {
  readonly id: string;
  readonly vin?: string;
  readonly make?: string;
  readonly model?: string;
  readonly year?: number;
  /** Fields this car can deliver with the granted scopes; unknown = try all and learn. */
  readonly fields?: ReadonlySet<VehicleField>;
}

export type VehicleCommand =
  | { readonly kind: 'startCharge' }
  | { readonly kind: 'stopCharge' }
  | { readonly kind: 'setChargeLimit'; readonly percent: number }
  | { readonly kind: 'lock' }
  | { readonly kind: 'unlock' };

/**
 * Why a read or command failed, reduced to what the bridge acts on:
 * - asleep: the car sleeps; keep the last values, do not poll it (that could wake it).
 * - rate_limited: wait at least `retryAfterSeconds`.
 * - unsupported: the car or the granted scopes cannot deliver this field; drop the entity.
 * - rejected: the car refused a command in its current state (e.g. plug not connected).
 * - unavailable: the API or the car is unreachable, or authorization failed; mark the car offline.
 */
export type VehicleErrorKind = 'asleep' | 'rate_limited' | 'unsupported' | 'rejected' | 'unavailable';

export class VehicleSourceError extends Error {
  override name = 'VehicleSourceError';
  readonly kind: VehicleErrorKind;
  readonly retryAfterSeconds: number | undefined;
  /** The vehicle API itself did not answer (network, timeout, 5xx): every car is affected, not just this one. */
  readonly apiDown: boolean;
  constructor(
    kind: VehicleErrorKind,
    message: string,
    options: { cause?: unknown; retryAfterSeconds?: number; apiDown?: boolean } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.kind = kind;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.apiDown = options.apiDown ?? false;
  }
}

export function isVehicleSourceError(error: unknown): error is VehicleSourceError {
  return error instanceof VehicleSourceError;
}

export interface ReadResult {
  readonly reading: VehicleReading;
  /** Per-field failures of a partially successful read (e.g. one endpoint unsupported). */
  readonly errors: ReadonlyMap<VehicleField, VehicleSourceError>;
  /** Requests this read cost against the daily budget. */
  readonly requestCount: number;
  /** When the car recorded each field that came back (SC-Data-Age), where the API says. */
  readonly recordedAt?: ReadonlyMap<VehicleField, Date>;
}

/** A change pushed by the source (webhook) rather than polled. */
export interface VehiclePush {
  readonly vehicleId: string;
  readonly reading: VehicleReading;
}

export interface VehicleSource {
  listVehicles(): Promise<VehicleInfo[]>;
  /**
   * Reads the given fields in one go. Throws VehicleSourceError when the whole read failed (asleep,
   * rate limited, API down); per-field failures come back in `errors`.
   */
  read(vehicleId: string, fields: readonly VehicleField[]): Promise<ReadResult>;
  command(vehicleId: string, command: VehicleCommand): Promise<void>;
  /**
   * Checks that the vehicle API answers without touching any car (no wake-up, no vehicle request), so
   * the bridge can tell when an outage is over.
   */
  checkApi?(): Promise<void>;
  /** Optional push source (webhooks). Returns an unsubscribe function. */
  onPush?(listener: (push: VehiclePush) => void): () => void;
  close?(): Promise<void>;
}

/** Next planned charge window from the smart-charging service, when it runs alongside. */
export interface ChargePlanWindow {
  readonly start: Date;
  readonly end: Date;
  /** Null when a slot of the window has no real price (the plan assumed one): the cost is unknown. */
  readonly cost: number | null;
  readonly currency: string;
}

export interface ChargePlanSource {
  nextWindow(vehicleId: string): Promise<ChargePlanWindow | null>;
}
