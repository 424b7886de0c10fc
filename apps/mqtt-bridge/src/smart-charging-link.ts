import { z } from 'zod';
import type { ChargePlanWindow, VehicleField, VehicleInfo, VehicleReading } from './vehicle-source.ts';

/**
 * The bridge's view of the smart-charging service, whichever way it reaches it: in one process (the demo,
 * through the service's routes without a socket) or over HTTP with an operator API token. Both go through
 * the service's own API routes, so access rules, validation and re-planning are the same in both layouts.
 */

export const SMART_CHARGING_MODES = ['smart', 'now', 'off'] as const;
export type SmartChargingMode = (typeof SMART_CHARGING_MODES)[number];

/** One plan slot of one car, for chart cards. */
export interface SmartChargingSlot {
  readonly start: string;
  readonly kw: number;
  readonly price: number | null;
  /** Planned SoC (%) at the end of the slot. */
  readonly soc: number | null;
}

export interface NextChargeWindow extends ChargePlanWindow {
  readonly energyKwh: number;
}

/** What smart charging knows and plans for one car. */
export interface SmartChargingView {
  readonly mode: SmartChargingMode;
  readonly targetSocPercent: number;
  readonly minimumSocPercent: number;
  /** Time of day (HH:MM, the site's zone) of the next departure; null when no day has one. */
  readonly departureTime: string | null;
  readonly nextDeparture: string | null;
  readonly next: NextChargeWindow | null;
  readonly expectedSocAtDeparturePercent: number | null;
  /** Charging on arrival minus the plan; null when either cost is unknown. */
  readonly savings: number | null;
  readonly currency: string;
  readonly slots: readonly SmartChargingSlot[];
  readonly shortfall: string | null;
  readonly planReason: string | null;
}

/** A car as the service knows it: what it is and its last state (read by the service, not the bridge). */
export interface LinkedVehicle {
  readonly info: VehicleInfo;
  readonly reading: VehicleReading;
  readonly readAt: Date | undefined;
  readonly grantActive: boolean;
}

export interface PreferenceChange {
  readonly targetSocPercent?: number;
  readonly minimumSocPercent?: number;
  /** HH:MM for every day the car leaves (every day when none is set), or null: no departures. */
  readonly departureTime?: string | null;
}

export interface SmartChargingLink {
  /**
   * Every car the token may see: the vehicle list, a dashboard read per hundred cars (the most the service
   * lists in full at once) and a preferences read per car.
   */
  snapshot(): Promise<Map<string, SmartChargingView>>;
  setMode(vehicleId: string, mode: SmartChargingMode): Promise<void>;
  updatePreferences(vehicleId: string, change: PreferenceChange): Promise<void>;
  vehicles(): Promise<LinkedVehicle[]>;
  vehicle(vehicleId: string): Promise<LinkedVehicle>;
}

/** One request to the service's API. `path` is relative to the service root, e.g. `api/vehicles`. */
export type ServiceTransport = (
  method: 'GET' | 'PUT',
  path: string,
  body?: unknown,
) => Promise<{ status: number; body: unknown }>;

export type SmartChargingLinkErrorCode = 'UNREACHABLE' | 'REFUSED' | 'FORBIDDEN' | 'INVALID' | 'NOT_FOUND';

/** Why the service did not do what the bridge asked; the message is safe to show (never the token). */
export class SmartChargingLinkError extends Error {
  override name = 'SmartChargingLinkError';
  readonly code: SmartChargingLinkErrorCode;
  constructor(code: SmartChargingLinkErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/**
 * The service over HTTP with an operator API token (`voltkit-smart-charging token create --role admin`;
 * a `read` token shows everything and refuses every change). The token goes only into the Authorization
 * header: never into a log line, an error or MQTT.
 */
export function httpTransport(options: {
  readonly serviceUrl: string;
  readonly apiToken: string;
  readonly fetch?: typeof fetch;
  readonly timeoutMs?: number;
}): ServiceTransport {
  const base = options.serviceUrl.endsWith('/') ? options.serviceUrl : `${options.serviceUrl}/`;
  const doFetch = options.fetch ?? fetch;
  return async (method, path, body) => {
    let response: Response;
    try {
      response = await doFetch(new URL(path, base), {
        method,
        headers: {
          authorization: `Bearer ${options.apiToken}`,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
      });
    } catch (error) {
      throw new SmartChargingLinkError(
        'UNREACHABLE',
        `smart-charging service at ${base} did not answer (${(error as Error).message})`,
      );
    }
    const text = await response.text();
    let parsed: unknown = undefined;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = text;
    }
    return { status: response.status, body: parsed };
  };
}

const ProblemSchema = z.object({ error: z.object({ message: z.string() }) });
const ServiceVehicleSchema = z.object({
  id: z.string(),
  make: z.string(),
  model: z.string(),
  year: z.number(),
  batteryCapacityKwh: z.number().nullable(),
  grantStatus: z.string(),
  state: z
    .object({
      soc: z.number(),
      pluggedIn: z.boolean(),
      charging: z.string(),
      chargeLimit: z.number().nullable(),
      readAt: z.string(),
    })
    .nullable(),
  mode: z.enum(SMART_CHARGING_MODES).optional(),
  chargeNow: z.boolean(),
});
/** The most cars the service's dashboard lists in full per read. */
const DASHBOARD_PAGE = 100;
const DashboardSchema = z.object({
  generatedAt: z.string(),
  currency: z.string(),
  timeZone: z.string(),
  planReason: z.string().nullable(),
  fleet: z.object({
    slots: z.array(
      z.object({
        start: z.string(),
        pricePerKwh: z.number().nullable(),
        priceAssumed: z.boolean(),
      }),
    ),
  }),
  vehicles: z.array(
    z.object({
      id: z.string(),
      targetSoc: z.number(),
      /** kW per slot of `fleet.slots`. */
      plannedKw: z.array(z.number()),
      departure: z.string().nullable(),
      socTrajectory: z.array(z.number()),
      shortfall: z.string().nullable(),
      costPlanned: z.number().nullable(),
      costOnArrival: z.number().nullable(),
    }),
  ),
});
/** Preferences travel whole (PUT replaces them); only what the bridge changes is typed. */
const PreferencesSchema = z.looseObject({
  departures: z.record(z.string(), z.string().nullable()),
  oneOffDeparture: z.string().nullable().optional(),
  targetSoc: z.number(),
  minimumSoc: z.number(),
});
type ServiceVehicle = z.infer<typeof ServiceVehicleSchema>;
type Dashboard = z.infer<typeof DashboardSchema>;

export const DEPARTURE_TIME = /^([01]\d|2[0-3]):[0-5]\d$/;

function localTime(iso: string, timeZone: string): string {
  return new Intl.DateTimeFormat('en-GB', {
    timeZone,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(new Date(iso));
}

const round = (value: number, digits: number): number => {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
};

/** The slot length of a plan, from its slot starts (15 minutes when a plan has a single slot). */
function slotMsOf(data: Dashboard): number {
  const [first, second] = data.fleet.slots;
  if (first && second) return Date.parse(second.start) - Date.parse(first.start);
  return 15 * 60_000;
}

/**
 * The first run of slots, from now on, in which the car is planned to charge: when, how much energy and
 * what it costs at the slots' prices (unknown when a slot has no real price, never a made-up number).
 */
export function nextChargeWindow(data: Dashboard, vehicleId: string, now: Date): NextChargeWindow | null {
  const slotMs = slotMsOf(data);
  const slotHours = slotMs / 3_600_000;
  const plannedKw = data.vehicles.find((row) => row.id === vehicleId)?.plannedKw ?? [];
  let start: number | undefined;
  let end = 0;
  let cost: number | null = 0;
  let energyKwh = 0;
  for (const [index, slot] of data.fleet.slots.entries()) {
    const slotStart = Date.parse(slot.start);
    if (slotStart + slotMs <= now.getTime()) continue;
    const kw = plannedKw[index] ?? 0;
    if (kw > 1e-6) {
      if (start === undefined) start = slotStart;
      end = slotStart + slotMs;
      energyKwh += kw * slotHours;
      cost =
        cost === null || slot.priceAssumed || slot.pricePerKwh === null
          ? null
          : cost + kw * slotHours * slot.pricePerKwh;
    } else if (start !== undefined) {
      break;
    }
  }
  if (start === undefined) return null;
  return { start: new Date(start), end: new Date(end), cost, currency: data.currency, energyKwh };
}

/** Builds one car's view from the service's dashboard data, its vehicle row and its preferences. */
export function smartChargingView(
  data: Dashboard,
  vehicle: ServiceVehicle,
  preferences: z.infer<typeof PreferencesSchema>,
): SmartChargingView {
  const row = data.vehicles.find((candidate) => candidate.id === vehicle.id);
  const now = new Date(data.generatedAt);
  const slotMs = slotMsOf(data);
  const trajectory = row?.socTrajectory ?? [];
  let expected: number | null = null;
  if (trajectory.length > 0) {
    const departureMs = row?.departure ? Date.parse(row.departure) : Number.POSITIVE_INFINITY;
    // SoC at the end of the last slot that ends by the departure (the plan's last if it ends sooner).
    let index = -1;
    data.fleet.slots.forEach((slot, i) => {
      if (Date.parse(slot.start) + slotMs <= departureMs) index = i;
    });
    const value = trajectory[Math.max(0, Math.min(index, trajectory.length - 1))];
    expected = value === undefined ? null : round(value * 100, 1);
  }
  const slots: SmartChargingSlot[] = [];
  data.fleet.slots.forEach((slot, i) => {
    if (Date.parse(slot.start) + slotMs <= now.getTime()) return;
    const soc = trajectory[i];
    slots.push({
      start: slot.start,
      kw: round(row?.plannedKw[i] ?? 0, 2),
      price: slot.priceAssumed ? null : slot.pricePerKwh,
      soc: soc === undefined ? null : round(soc * 100, 1),
    });
  });
  const savings =
    row && row.costOnArrival !== null && row.costPlanned !== null
      ? round(row.costOnArrival - row.costPlanned, 2)
      : null;
  return {
    mode: vehicle.mode ?? (vehicle.chargeNow ? 'now' : 'smart'),
    targetSocPercent: round(preferences.targetSoc * 100, 1),
    minimumSocPercent: round(preferences.minimumSoc * 100, 1),
    departureTime: row?.departure ? localTime(row.departure, data.timeZone) : null,
    nextDeparture: row?.departure ?? null,
    next: nextChargeWindow(data, vehicle.id, now),
    expectedSocAtDeparturePercent: expected,
    savings,
    currency: data.currency,
    // A day of 15-minute slots and more: capped so the attributes stay under HA's 16 kB recorder limit.
    slots: slots.slice(0, 192),
    shortfall: row?.shortfall ?? null,
    planReason: data.planReason,
  };
}

const CHARGE_STATES = {
  CHARGING: 'charging',
  FULLY_CHARGED: 'fully_charged',
  NOT_CHARGING: 'not_charging',
} as const;

/** What the bridge can show of a car from the service's last read: battery, plug, charge state and limit. */
export function linkedVehicle(vehicle: ServiceVehicle): LinkedVehicle {
  const fields: VehicleField[] = ['battery', 'charge', 'chargeLimit'];
  if (vehicle.batteryCapacityKwh !== null) fields.push('batteryCapacity');
  const state = vehicle.state;
  const reading: VehicleReading = {};
  if (state) {
    reading.socPercent = round(state.soc * 100, 1);
    reading.pluggedIn = state.pluggedIn;
    reading.chargeState = CHARGE_STATES[state.charging as keyof typeof CHARGE_STATES] ?? 'not_charging';
    if (state.chargeLimit !== null) reading.chargeLimitPercent = round(state.chargeLimit * 100, 0);
  }
  if (vehicle.batteryCapacityKwh !== null) reading.batteryCapacityKwh = vehicle.batteryCapacityKwh;
  return {
    info: {
      id: vehicle.id,
      make: vehicle.make,
      model: vehicle.model,
      year: vehicle.year,
      fields: new Set(fields),
    },
    reading,
    readAt: state ? new Date(state.readAt) : undefined,
    grantActive: vehicle.grantStatus === 'active',
  };
}

/** The link over a transport: the service's routes, each answer checked with zod. */
export function createSmartChargingLink(transport: ServiceTransport): SmartChargingLink {
  const call = async <T>(
    method: 'GET' | 'PUT',
    path: string,
    schema: z.ZodType<T>,
    body?: unknown,
  ): Promise<T> => {
    const response = await transport(method, path, body);
    if (response.status >= 300) {
      const problem = ProblemSchema.safeParse(response.body);
      const detail = problem.success ? problem.data.error.message : `status ${response.status}`;
      const where = `${method} /${path.split('?')[0]}`;
      if (response.status === 401)
        throw new SmartChargingLinkError(
          'REFUSED',
          `${where}: the service refused the bridge's API token (expired, revoked or unknown); create one with "voltkit-smart-charging token create --role admin"`,
        );
      if (response.status === 403)
        throw new SmartChargingLinkError(
          'FORBIDDEN',
          `${where}: the bridge's API token may not change this (a read token); use an admin token for changes from Home Assistant`,
        );
      if (response.status === 404) throw new SmartChargingLinkError('NOT_FOUND', `${where}: ${detail}`);
      if (response.status === 400) throw new SmartChargingLinkError('INVALID', detail);
      throw new SmartChargingLinkError('UNREACHABLE', `${where} answered ${response.status}: ${detail}`);
    }
    const parsed = schema.safeParse(response.body);
    if (!parsed.success)
      throw new SmartChargingLinkError(
        'INVALID',
        `${method} /${path}: unexpected answer (${parsed.error.issues[0]?.path.join('.') ?? ''}: ${parsed.error.issues[0]?.message ?? 'invalid'}); is the service a matching version?`,
      );
    return parsed.data;
  };
  const vehiclePath = (vehicleId: string) => `api/vehicles/${encodeURIComponent(vehicleId)}`;
  // The service pages its car list ({ items, nextCursor }); the bridge follows the cursors to the end.
  const VehiclePageSchema = z.object({
    items: z.array(ServiceVehicleSchema),
    nextCursor: z.string().nullable(),
  });
  const allVehicles = async () => {
    const vehicles: z.infer<typeof ServiceVehicleSchema>[] = [];
    let cursor: string | null = null;
    do {
      const page: z.infer<typeof VehiclePageSchema> = await call(
        'GET',
        `api/vehicles?limit=1000${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`,
        VehiclePageSchema,
      );
      vehicles.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor !== null);
    return vehicles;
  };

  /**
   * The dashboard holding `vehicleIds` in full. The service lists at most 100 cars per read (an operator's
   * dashboard holds only the cars it names), so larger fleets are read in pages and their cars put together.
   */
  const dashboardOf = async (vehicleIds: readonly string[]): Promise<Dashboard> => {
    if (vehicleIds.length === 0) return call('GET', 'api/dashboard', DashboardSchema);
    const slotStarts = (page: Dashboard) => page.fleet.slots.map((slot) => slot.start).join();
    for (let attempt = 1; ; attempt += 1) {
      const pages: Dashboard[] = [];
      for (let from = 0; from < vehicleIds.length; from += DASHBOARD_PAGE) {
        const ids = vehicleIds.slice(from, from + DASHBOARD_PAGE).map(encodeURIComponent);
        pages.push(await call('GET', `api/dashboard?vehicleIds=${ids.join(',')}`, DashboardSchema));
      }
      // A car's series index its page's slots: pages read across a re-plan that moved them don't add up.
      const first = pages[0]!;
      if (pages.every((page) => slotStarts(page) === slotStarts(first)))
        return { ...first, vehicles: pages.flatMap((page) => page.vehicles) };
      if (attempt === 3)
        throw new SmartChargingLinkError(
          'UNREACHABLE',
          `GET /api/dashboard: the plan's slots moved during each of ${attempt} reads of ${pages.length} pages; reading again at the next poll`,
        );
    }
  };

  return {
    async snapshot() {
      const vehicles = await allVehicles();
      const data = await dashboardOf(vehicles.map((vehicle) => vehicle.id));
      const views = new Map<string, SmartChargingView>();
      for (const vehicle of vehicles) {
        const preferences = await call('GET', `${vehiclePath(vehicle.id)}/preferences`, PreferencesSchema);
        views.set(vehicle.id, smartChargingView(data, vehicle, preferences));
      }
      return views;
    },
    async setMode(vehicleId, mode) {
      await call('PUT', `${vehiclePath(vehicleId)}/mode`, z.unknown(), { mode });
    },
    async updatePreferences(vehicleId, change) {
      const current = await call('GET', `${vehiclePath(vehicleId)}/preferences`, PreferencesSchema);
      const next = { ...current };
      if (change.targetSocPercent !== undefined) next.targetSoc = change.targetSocPercent / 100;
      if (change.minimumSocPercent !== undefined) next.minimumSoc = change.minimumSocPercent / 100;
      if (change.departureTime !== undefined) {
        const days = Object.keys(current.departures);
        const leaving = days.filter((day) => current.departures[day] !== null);
        const time = change.departureTime;
        next.departures = Object.fromEntries(
          days.map((day) => [
            day,
            time === null ? null : leaving.length === 0 || leaving.includes(day) ? time : null,
          ]),
        );
        // The one-off departure would hide the new time until it passes.
        next.oneOffDeparture = null;
      }
      await call('PUT', `${vehiclePath(vehicleId)}/preferences`, z.unknown(), next);
    },
    async vehicles() {
      return (await allVehicles()).map(linkedVehicle);
    },
    async vehicle(vehicleId) {
      return linkedVehicle(await call('GET', vehiclePath(vehicleId), ServiceVehicleSchema));
    },
  };
}
