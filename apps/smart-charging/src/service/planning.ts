import { isVoltkitError } from '@voltkit/core/client';
import type { Logger } from 'pino';
import { createPlan, parsePlanRequest, type Plan, type PlanRequestInput } from '../planner/plan.ts';
import type { LoadProfile } from '../planner/load-profile.ts';
import { laneCount } from '../planner/hard-limit.ts';
import { requestedTargetSocPercent } from '../planner/vehicle.ts';
import { commandedOnTime, replaceFutureCommands } from '../store/command-log.ts';
import { listGrants } from '../store/grants.ts';
import { listGridEvents, loadGridSettings } from '../store/grid.ts';
import { savePlan } from '../store/plans.ts';
import { loadPreferences, type ChargingPreferences } from '../store/preferences.ts';
import { loadPrices } from '../store/prices.ts';
import type { SqlClient, SqlQueryable } from '../store/sql-client.ts';
import { listVehicles, loadVehicleStates, saveVehicleState } from '../store/vehicles.ts';
import { nextDeparture } from './departure.ts';
import { planToCommands } from './plan-to-commands.ts';
import type { ChargingState, VehicleGateway } from './vehicle-gateway.ts';

export interface PlanningOptions {
  readonly db: SqlClient;
  readonly gateway: VehicleGateway;
  readonly now: () => Date;
  readonly logger: Logger;
  readonly timeZone: string;
  readonly slotMinutes: 5 | 15 | 30 | 60;
  readonly priceSource: string;
  readonly profile: LoadProfile;
  /** How the prices were obtained (market feed, replayed history), kept with the plan. */
  readonly priceNote?: string;
  /** Charge-now overrides: vehicle ids that charge to their target at once, whatever the price. */
  readonly chargeNow?: ReadonlySet<string>;
  /** Smart charging switched off: the car charges as it would on its own (no plan, no commands). */
  readonly smartChargingOff?: ReadonlySet<string>;
  /** States the caller read (and stored) moments ago; those cars are not asked again. */
  readonly statesReadNow?: ReadonlyMap<string, ChargingState>;
  /**
   * Which of these cars may be asked now (the vehicle API budget); the others are planned on their stored
   * state. Omitted: every car is asked.
   */
  readonly selectReads?: (vehicleIds: readonly string[]) => Promise<ReadonlySet<string>>;
  /** Hears each failed read (a 429 is recorded as a back-off). */
  readonly onReadFailure?: (vehicleId: string, error: unknown) => Promise<void>;
}

export interface PlanningOutcome {
  readonly planId: string;
  readonly plan: Plan;
  /** Vehicles left out of the plan, with the reason (unplugged, grant not active, car not reachable, …). */
  readonly skipped: readonly { vehicleId: string; reason: string }[];
}

/** Longest horizon planned ahead: day-ahead prices rarely reach further. */
const MAX_HORIZON_MS = 48 * 3_600_000;
/** Assumed usable capacity when a car does not report one (a mid-size EV). */
const FALLBACK_CAPACITY_KWH = 50;

/**
 * Plans the whole fleet jointly: reads each plugged-in car's state, builds the planner request from the
 * stored preferences, prices and grid signal, stores the plan and replaces the future command log with it.
 */
export async function replanFleet(options: PlanningOptions, reason: string): Promise<PlanningOutcome> {
  const { db, gateway, logger, timeZone, slotMinutes } = options;
  const now = options.now();
  const slotMs = slotMinutes * 60_000;
  const horizonStart = Math.floor(now.getTime() / slotMs) * slotMs;

  const grants = new Map((await listGrants(db)).map((grant) => [grant.id, grant]));
  const knownStates = await loadVehicleStates<ChargingState>(db);
  const skipped: { vehicleId: string; reason: string }[] = [];
  const planned: {
    input: PlanRequestInput['vehicles'][number];
    chargerPowerKw: number;
    chargeLimit?: number;
  }[] = [];

  const vehicles = await listVehicles(db);
  const mayRead = await options.selectReads?.(
    vehicles
      .filter(
        (vehicle) =>
          grants.get(vehicle.grantId)?.status === 'active' &&
          !options.smartChargingOff?.has(vehicle.id) &&
          !options.statesReadNow?.has(vehicle.id),
      )
      .map((vehicle) => vehicle.id),
  );
  for (const vehicle of vehicles) {
    if (grants.get(vehicle.grantId)?.status !== 'active') {
      skipped.push({
        vehicleId: vehicle.id,
        reason: `grant ${grants.get(vehicle.grantId)?.status ?? 'missing'}`,
      });
      continue;
    }
    if (options.smartChargingOff?.has(vehicle.id)) {
      skipped.push({ vehicleId: vehicle.id, reason: 'smart charging off' });
      continue;
    }
    let state: ChargingState;
    try {
      const readNow = options.statesReadNow?.get(vehicle.id);
      const known = knownStates.get(vehicle.id);
      if (readNow) state = readNow;
      else if (mayRead !== undefined && !mayRead.has(vehicle.id)) {
        // Not asked now (budget spent, backing off, or a fresh webhook state): the stored state stands.
        if (!known) {
          skipped.push({ vehicleId: vehicle.id, reason: 'not read yet: the vehicle API budget is spent' });
          continue;
        }
        state = known.state;
      } else {
        state = await gateway.readChargingState(vehicle.grantId, vehicle.id);
        await saveVehicleState(db, vehicle.id, state, now);
      }
    } catch (error) {
      await options.onReadFailure?.(vehicle.id, error);
      if (isVoltkitError(error) && error.type === 'COMPATIBILITY') {
        // A car without a traction battery (or one the API cannot charge): nothing to plan, nothing to warn.
        skipped.push({ vehicleId: vehicle.id, reason: 'not chargeable through the vehicle API' });
        continue;
      }
      const known = knownStates.get(vehicle.id);
      logger.warn(
        { vehicleId: vehicle.id, err: error },
        'could not read the car; planning with its last known state',
      );
      if (!known) {
        skipped.push({ vehicleId: vehicle.id, reason: 'car not reachable and no state known' });
        continue;
      }
      state = known.state;
    }
    if (!state.pluggedIn) {
      skipped.push({ vehicleId: vehicle.id, reason: 'unplugged' });
      continue;
    }
    const preferences = await loadPreferences(db, vehicle.id);
    if (preferences.smartChargeOnlyAtHome && preferences.home !== null) {
      const where = await awayFromHome(gateway, vehicle, preferences.home, logger);
      if (where === 'away') {
        // Away from home the car charges as it would on its own: no plan, no commands.
        skipped.push({ vehicleId: vehicle.id, reason: 'away from home' });
        continue;
      }
    }
    const departure = nextDeparture(preferences, now.getTime(), timeZone) ?? now.getTime() + 24 * 3_600_000;
    const trip = tripInput(preferences, state);
    if (trip === 'no-range') {
      skipped.push({
        vehicleId: vehicle.id,
        reason: 'a trip needs the car’s range and SoC readings, and the car gave none: set targetSoc instead',
      });
      continue;
    }
    const targetPercent =
      trip === undefined ? preferences.targetSoc * 100 : tripTargetPercent(trip, state.chargeLimit);
    const chargeNow = options.chargeNow?.has(vehicle.id) ?? false;
    planned.push({
      chargerPowerKw: preferences.chargerPowerKw,
      // Set the car's own limit to the target as a backstop, where the car supports it and differs.
      ...(state.chargeLimit !== null &&
      Math.abs(state.chargeLimit - Math.max(targetPercent / 100, 0.5)) > 0.005
        ? { chargeLimit: Math.max(targetPercent / 100, 0.5) }
        : {}),
      input: {
        id: vehicle.id,
        // The SoC is measured now, so only the rest of the current slot is available to this plan.
        arrival: now.getTime(),
        socPercent: state.soc * 100,
        capacityKwh: vehicle.batteryCapacityKwh ?? FALLBACK_CAPACITY_KWH,
        ...(trip === undefined ? { targetSocPercent: targetPercent } : trip),
        departure: Math.min(departure, horizonStart + MAX_HORIZON_MS),
        chargeLimitPercent: Math.max(targetPercent, (state.chargeLimit ?? 1) * 100),
        maxPowerKw: preferences.chargerPowerKw,
        taper: { startSocPercent: 80, endPowerKw: Math.min(preferences.chargerPowerKw, 3.7) },
        minSocPercent: chargeNow ? targetPercent : preferences.minimumSoc * 100,
      },
    });
  }

  const horizonEnd = Math.max(
    horizonStart + slotMs,
    ...planned.map((vehicle) => Math.ceil(Number(vehicle.input.departure) / slotMs) * slotMs),
  );
  const grid = await loadGridSettings(db);
  // Energy the chargers already drew in the slot under way, at the power each was planned with.
  const onTime = await commandedOnTime(db, new Date(horizonStart), now);
  const powerByVehicle = new Map(planned.map((vehicle) => [vehicle.input.id, vehicle.chargerPowerKw]));
  const drawnKwh = [...onTime].reduce(
    (sum, [vehicleId, ms]) => sum + ((powerByVehicle.get(vehicleId) ?? 0) * ms) / 3_600_000,
    0,
  );
  const events = await listGridEvents(db, new Date(horizonStart), new Date(horizonEnd));
  const prices = await loadPrices(db, options.priceSource, new Date(horizonStart), new Date(horizonEnd));
  const plan = createPlan(
    parsePlanRequest({
      horizon: { start: horizonStart, end: horizonEnd, slotMinutes, timeZone },
      tariff: {
        type: 'dynamic',
        name: options.priceSource,
        prices: prices.map((slot) => ({
          startMs: slot.start.getTime(),
          endMs: slot.end.getTime(),
          pricePerKwh: slot.pricePerKwh,
        })),
        gapPolicy: 'previous-day',
        // With no price at all the planner refuses unless asked: the service plans energy only and
        // shows every cost as unknown (its own price-coverage check flags those slots).
        whenNoPriceKnown: 'energy-only',
      },
      grid: {
        // A hard limit holds per minute, so energy drawn earlier in this slot does not shrink it.
        limitKw: slotLimits(
          grid.limitKw,
          horizonStart,
          horizonEnd,
          slotMs,
          grid.limitMode === 'hard' ? 0 : drawnKwh,
        ),
        limitMode: grid.limitMode,
        baseLoad:
          grid.baseLoadKwhPerYear > 0
            ? { kind: 'bdew-h25', annualKwh: grid.baseLoadKwhPerYear }
            : { kind: 'none' },
        demandResponse: events.map((event) => ({
          id: event.id,
          start: event.startsAt,
          end: event.endsAt,
          limitKw: event.limitKw,
        })),
      },
      vehicles: planned.map((vehicle) => vehicle.input),
      objective: 'cost-then-peak',
    } satisfies PlanRequestInput),
    { profile: options.profile },
  );

  const slotStarts = plan.slots.map((slot) => new Date(slot.start));
  const planId = await db.transaction(async (tx) => {
    const id = await savePlan(tx, {
      reason,
      horizonStart: new Date(horizonStart),
      horizonEnd: new Date(horizonEnd),
      body: { plan, skipped, priceNote: options.priceNote ?? null },
      vehiclePower: {
        firstSlotStart: new Date(plan.slots[0]?.start ?? horizonStart),
        slotMinutes: plan.slotMinutes,
        vehicles: plan.vehicles.map((vehicle) => ({ vehicleId: vehicle.id, powerKw: vehicle.powerKw })),
      },
    });
    const schedules = plan.vehicles.flatMap((vehiclePlan) => {
      const vehicle = planned.find((candidate) => candidate.input.id === vehiclePlan.id);
      if (!vehicle) return [];
      return [
        {
          vehicleId: vehiclePlan.id,
          chargingPowerKw: vehicle.chargerPowerKw,
          energyPerSlotKwh: vehiclePlan.powerKw.map((kw) => (kw * slotMs) / 3_600_000),
          ...(vehicle.chargeLimit === undefined ? {} : { chargeLimit: vehicle.chargeLimit }),
        },
      ];
    });
    const commands = planToCommands(
      schedules,
      slotStarts,
      slotMs,
      now,
      grid.limitMode === 'hard' ? hardLimitLanes(plan, schedules) : undefined,
    );
    // Cars that must not charge now get an explicit stop: a plugged-in car charges on its own otherwise.
    for (const vehiclePlan of plan.vehicles) {
      const first = commands.find(
        (command) => command.vehicleId === vehiclePlan.id && command.action === 'start_charge',
      );
      if (!first || first.dueAt.getTime() > now.getTime()) {
        commands.push({ vehicleId: vehiclePlan.id, action: 'stop_charge', dueAt: now });
      }
    }
    await replaceFutureCommands(tx, id, commands, now);
    await explainCancellations(tx, id, now, reason);
    return id;
  });
  logger.info(
    {
      planId,
      reason,
      vehicles: plan.vehicles.length,
      skipped: skipped.length,
      cost: plan.summary.totalCost,
      savings: plan.summary.savings,
    },
    'fleet planned',
  );
  return { planId, plan, skipped };
}

/**
 * The site limit per slot. In the slot already under way the chargers have drawn `drawnKwh` under the
 * previous plan, which this plan must leave out of the slot's budget: the meter averages the whole slot.
 */
/**
 * Cars that may be on at once in each slot under a hard limit: ⌊headroom / strongest charger planned to
 * charge in it⌋. The planner sized each slot's energy for at least this many lanes, so laying the on-times
 * over them never exceeds the limit in any minute.
 */
function hardLimitLanes(
  plan: Plan,
  schedules: readonly { chargingPowerKw: number; energyPerSlotKwh: readonly number[] }[],
): number[] {
  return plan.slots.map((slot, t) => {
    const strongest = Math.max(
      0,
      ...schedules
        .filter((schedule) => (schedule.energyPerSlotKwh[t] ?? 0) > 0)
        .map((schedule) => schedule.chargingPowerKw),
    );
    return Math.max(0, laneCount(slot.limitKw - slot.baseKw, strongest));
  });
}

/** The planner's trip input from the owner's trip and the car's range per percent; undefined = no trip. */
function tripInput(
  preferences: ChargingPreferences,
  state: ChargingState,
):
  | { trip: { distanceKm: number; reservePercent: number }; rangeKmPerPercent: number }
  | 'no-range'
  | undefined {
  if (preferences.trip === null) return undefined;
  const range = state.rangeKm;
  if (range === undefined || range === null || !(range > 0) || !(state.soc > 0.01)) return 'no-range';
  return { trip: preferences.trip, rangeKmPerPercent: range / (state.soc * 100) };
}

/** The SoC (%) a trip needs, capped at the car's own limit, for the backstop limit and charge-now. */
function tripTargetPercent(
  input: { trip: { distanceKm: number; reservePercent: number }; rangeKmPerPercent: number },
  chargeLimit: number | null,
): number {
  return Math.min(requestedTargetSocPercent(input), (chargeLimit ?? 1) * 100);
}

function slotLimits(
  limitKw: number,
  horizonStart: number,
  horizonEnd: number,
  slotMs: number,
  drawnKwh: number,
): number[] {
  const count = Math.round((horizonEnd - horizonStart) / slotMs);
  const slotHours = slotMs / 3_600_000;
  return Array.from({ length: count }, (_, slot) =>
    slot === 0 ? Math.max(0, limitKw - drawnKwh / slotHours) : limitKw,
  );
}

/**
 * The new plan decides what every car does from now on, so commands of earlier plans still waiting
 * (missed while the service was down, or retrying) are cancelled too; every cancelled command says why.
 * A command the new plan wants again (same car, action and time) is the same row and stays pending.
 */
async function explainCancellations(
  tx: SqlQueryable,
  planId: string,
  now: Date,
  reason: string,
): Promise<void> {
  await tx.query(
    `update commands set status = 'cancelled', next_attempt_at = null,
       last_error = case when last_error is null then $3 else last_error || '; ' || $3 end
     where status = 'pending' and plan_id <> $1 and due_at < $2`,
    [planId, now, `superseded by plan ${planId} (${reason})`],
  );
  await tx.query(
    `update commands set last_error = $1
     where status = 'cancelled' and last_error is null`,
    [`not in plan ${planId} (${reason})`],
  );
  // A command cancelled earlier and wanted again by this plan starts afresh.
  await tx.query(
    `update commands set last_error = null where plan_id = $1 and status = 'pending' and attempts = 0`,
    [planId],
  );
}

/**
 * Whether the car is outside its home radius. Without the optional location scope (or when the car does
 * not answer) its position is unknown and it is planned as if at home.
 */
async function awayFromHome(
  gateway: VehicleGateway,
  vehicle: { readonly id: string; readonly grantId: string },
  home: { readonly latitude: number; readonly longitude: number; readonly radiusMeters: number },
  logger: Logger,
): Promise<'home' | 'away' | 'unknown'> {
  try {
    const position = await gateway.readLocation(vehicle.grantId, vehicle.id);
    return distanceMeters(position, home) <= home.radiusMeters ? 'home' : 'away';
  } catch (error) {
    logger.debug({ vehicleId: vehicle.id, err: error }, 'location unknown; planning as at home');
    return 'unknown';
  }
}

/** Great-circle distance (haversine), metres. */
export function distanceMeters(
  a: { readonly latitude: number; readonly longitude: number },
  b: { readonly latitude: number; readonly longitude: number },
): number {
  const radians = (degrees: number) => (degrees * Math.PI) / 180;
  const dLat = radians(b.latitude - a.latitude);
  const dLon = radians(b.longitude - a.longitude);
  const h =
    Math.sin(dLat / 2) ** 2 +
    Math.cos(radians(a.latitude)) * Math.cos(radians(b.latitude)) * Math.sin(dLon / 2) ** 2;
  return 2 * 6_371_000 * Math.asin(Math.min(1, Math.sqrt(h)));
}
